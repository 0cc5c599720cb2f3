import GatehouseHummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// One exchange with the upstream: connecting, relaying both ways, and its failures.
extension DirectProxyHandler {
    func begin(_ head: HTTPRequestHead, plan: DirectProxy.Plan) {
        request = head
        self.plan = plan
        keptParts = []
        requestEnded = false
        responseStarted = false
        heldBody = nil
        closeAfterResponse = plan.closeClient
        retried = false
        started = ContinuousClock.now
        phase = .connecting
        if poolRoute != plan.route, let context {
            pool = plan.target.pools.pool(on: context.eventLoop)
            poolRoute = plan.route
        }
        if let connection = pool?.takeIdle() {
            reusedConnection = true
            attach(connection)
        } else {
            connectNew()
        }
    }

    func connectNew() {
        reusedConnection = false
        guard let pool else { return connectFailed() }
        pool.connect().assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                guard let connection = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                else {
                    channel.close(promise: nil)
                    return self.connectFailed()
                }
                self.attach(connection)
            case .failure:
                self.connectFailed()
            }
        }
    }

    /// Sends the request (and what was read of its body) on `connection`.
    func attach(_ connection: UpstreamConnection) {
        guard case .connecting = phase, let plan, let context, context.channel.isActive else {
            pool?.giveBack(connection)  // the client left meanwhile
            return
        }
        phase = .exchanging(connection)
        connection.exchange = self
        if !retried { proxy.metrics.proxiedDirect.increment() }
        connection.send(head: plan.head, bodyLength: plan.bodyLength)
        for part in keptParts { send(part, to: connection, flush: false) }
        keptParts = []
        connection.flush()
        headDeadlineAt = .now() + TimeAmount(proxy.proxy.headTimeout)
        pool?.startWaiting(self)
        resumeReadingIfHeld()
    }

    /// No connection: the router takes the request over, as if this handler had not seen it.
    func connectFailed() {
        guard case .connecting = phase, let request else { return }
        proxy.proxy.logger.debug("direct upstream connection failed; the router takes the request")
        phase = .idle
        toRouter(.head(request))
        for part in keptParts { toRouter(part) }
        keptParts = []
        self.request = nil
        plan = nil
        if quiesceHeld {
            quiesceHeld = false
            context?.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        continueAfterExchange()
    }

    func send(_ part: HTTPServerRequestPart, to connection: UpstreamConnection, flush: Bool) {
        switch part {
        case .head: return
        case .body(let buffer): connection.send(.body(.byteBuffer(buffer)))
        case .end: connection.send(.end(nil))  // trailers are not forwarded
        }
        if flush { connection.flush() }
    }

    func upstreamBecameWritable() {
        resumeReadingIfHeld()
    }

    // MARK: The response

    func upstreamRead(_ part: HTTPClientResponsePart, from connection: UpstreamConnection) {
        guard case .exchanging(let current) = phase, current === connection, let context else { return }
        switch part {
        case .head(let head):
            pool?.stopWaiting(self)
            responseStarted = true
            upstreamKeepAlive = head.isKeepAlive
            proxy.proxy.upstreamDuration?.record(ContinuousClock.now - started)
            var fields = ProxyHeaders.response(head.headers)
            // An answer before the whole request arrived (a 413, say): the rest of the
            // request cannot be told from a next one, so the connection closes afterwards.
            if !requestEnded { closeAfterResponse = true }
            if closeAfterResponse { fields.replaceOrAdd(name: "Connection", value: "close") }
            proxy.metrics.countRequest(route: plan?.target.metricsLabel ?? GatewayMetrics.proxyRoute, status: Int(head.status.code))
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: fields))),
                promise: nil)
        case .body(let buffer):
            holdBody(buffer, context: context)
        case .end:
            writeHeldBody(context: context)
            if closeAfterResponse || quiesceHeld {
                // The connection closes once this has gone out.
                let promise = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
                lastWrite = promise.futureResult
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                lastWrite = nil
            }
            finishExchange(connection)
        }
    }

    func upstreamReadComplete() {
        guard let context else { return }
        writeHeldBody(context: context)
        context.flush()
    }

    /// Body parts of one upstream read go to the client as one write where that is cheap:
    /// ``UpstreamDesyncGuard`` hands each read to the decoder in two steps, so a response's
    /// last byte usually arrives as a part of its own.
    private func holdBody(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        guard var held = heldBody else {
            heldBody = buffer
            return
        }
        if buffer.readableBytes <= Self.smallBodyPart, held.readableBytes <= Self.coalescedBodyLimit {
            heldBody = nil  // one reference: the append copies the slice once at most
            held.writeImmutableBuffer(buffer)
            heldBody = held
            return
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(held))), promise: nil)
        heldBody = buffer
    }

    private func writeHeldBody(context: ChannelHandlerContext) {
        guard let held = heldBody else { return }
        heldBody = nil
        context.write(wrapOutboundOut(.body(.byteBuffer(held))), promise: nil)
    }

    private func finishExchange(_ connection: UpstreamConnection) {
        connection.exchange = nil
        if upstreamKeepAlive && requestEnded {
            pool?.giveBack(connection)
        } else {
            connection.close()
        }
        if closeAfterResponse {
            closeAfterFlush()
        } else {
            continueAfterExchange()
        }
    }

    /// The upstream closed the connection during the exchange.
    func upstreamClosed(_ connection: UpstreamConnection) {
        guard case .exchanging(let current) = phase, current === connection, let plan else { return }
        pool?.stopWaiting(self)
        if responseStarted {
            // Mid-answer: the client cannot be told except by closing.
            proxy.proxy.logger.warning("upstream closed the connection during a response", metadata: ["path": "\(plan.path)"])
            phase = .closing
            context?.close(promise: nil)
            return
        }
        if reusedConnection, !retried, !plan.hasBody, let request, DirectProxy.idempotentMethods.contains(request.method) {
            // A kept-alive connection the upstream had closed just before we wrote: try once
            // more on a new one (an idempotent request without a body can be sent again whole,
            // RFC 9112 §9.3.1; anything else might have been acted on).
            retried = true
            phase = .connecting
            keptParts = requestEnded ? [.end(nil)] : []
            connectNew()
            return
        }
        proxy.proxy.upstreamDuration?.record(ContinuousClock.now - started)
        proxy.proxy.logger.error("upstream closed the connection without answering", metadata: ["path": "\(plan.path)"])
        answer(ReverseProxy.unavailablePage)
    }

    func headTimedOut() {
        guard case .exchanging(let connection) = phase, !responseStarted, let plan else { return }
        connection.close()
        proxy.proxy.upstreamDuration?.record(ContinuousClock.now - started)
        proxy.proxy.logger.warning("upstream timed out", metadata: ["path": "\(plan.path)"])
        answer(ReverseProxy.timeoutPage)
    }

    /// Answers with a Gatehouse page instead of the upstream's response, then closes.
    private func answer(_ page: Page) {
        guard let context else { return }
        proxy.metrics.countRequest(route: plan?.target.metricsLabel ?? GatewayMetrics.proxyRoute, status: page.status.code)
        let body = ByteBuffer(string: page.html)
        var fields = HTTPHeaders(page.headers)
        fields.replaceOrAdd(name: "Connection", value: "close")
        fields.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        let status = HTTPResponseStatus(statusCode: page.status.code, reasonPhrase: page.status.reasonPhrase)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
        lastWrite = promise.futureResult
        closeAfterFlush()
    }
}
