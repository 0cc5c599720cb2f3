import Foundation
import GatehouseTestSupport
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// WebSocket pass-through against a real WebSocket server (Hummingbird's) and a real client
/// (HummingbirdWSClient), plus raw handshakes to see exactly what the client receives.
@Suite("Gateway WebSocket pass-through")
struct WebSocketPassThroughTests {
    /// The upstream: `/ws` greets with what its handshake carried (identity, cookies, the
    /// offered subprotocols), picks `chat.v1` when offered, then echoes every message.
    /// Other paths refuse the upgrade.
    static func withUpstream<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        try await TestServer.run(
            { onRunning in
                Application(
                    router: Router(),
                    server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 1 << 21))) { head, _, _ in
                        guard head.path?.hasPrefix("/ws") == true else { return .dontUpgrade }
                        let fields = head.headerFields
                        let offered = fields[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
                            .map { $0.trimmingCharacters(in: .whitespaces) }
                        var response = HTTPFields()
                        if offered.contains("chat.v1") { response[.secWebSocketProtocol] = "chat.v1" }
                        let greeting = [
                            "user=" + (fields[.init("X-Forwarded-User")!] ?? "-"),
                            "email=" + (fields[.init("X-Forwarded-Email")!] ?? "-"),
                            "cookie=" + (fields[.cookie] ?? "-"),
                            "path=" + (head.path ?? "-"),
                        ].joined(separator: " ")
                        return .upgrade(response) { inbound, outbound, _ in
                            try await outbound.write(.text(greeting))
                            for try await message in inbound.messages(maxSize: 4 << 20) {
                                switch message {
                                case .text(let text): try await outbound.write(.text("echo:" + text))
                                case .binary(let bytes): try await outbound.write(.binary(bytes))
                                }
                            }
                        }
                    },
                    configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
            }, body)
    }

    @Test func signedInWebSocketReachesTheUpstreamWithIdentityAndEchoes() async throws {
        try await Self.withUpstream { upstreamPort in
            try await GatewayFixture.with(environment: ["GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)"]) {
                fixture in
                let browser = fixture.browser()
                try await browser.logIn()
                browser.cookies["app"] = "kept"
                let configuration = Self.clientConfiguration(browser, maxFrameSize: 1 << 21)
                let received = Mutex<[String]>([])
                let url = fixture.baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/ws/room?x=1"
                try await WebSocketClient.connect(url: url, configuration: configuration, logger: Logger(label: "test")) {
                    inbound, outbound, _ in
                    let big = ByteBuffer(repeating: 0x5A, count: 1 << 20)
                    try await outbound.write(.text("ping"))
                    try await outbound.write(.binary(big))
                    var count = 0
                    for try await message in inbound.messages(maxSize: 4 << 20) {
                        switch message {
                        case .text(let text): received.withLock { $0.append(text) }
                        case .binary(let bytes): received.withLock { $0.append("binary \(bytes.readableBytes) \(bytes == big)") }
                        }
                        count += 1
                        if count == 3 { break }
                    }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                let messages = received.withLock { $0 }
                #expect(messages.count == 3)
                let greeting = messages.first ?? ""
                #expect(greeting.contains("email=alice@example.com"))
                #expect(!greeting.contains("user=-"))
                #expect(greeting.contains("cookie=app=kept path=/ws/room?x=1"), "Gatehouse's cookies stay out: \(greeting)")
                #expect(messages.dropFirst().contains("echo:ping"))
                #expect(messages.dropFirst().contains("binary 1048576 true"))
            }
        }
    }

    /// A WebSocket client carrying `browser`'s cookies.
    static func clientConfiguration(_ browser: GatewayBrowser, maxFrameSize: Int = 1 << 14) -> WebSocketClientConfiguration {
        var configuration = WebSocketClientConfiguration(maxFrameSize: maxFrameSize)
        configuration.additionalHeaders[.cookie] = browser.cookies.map { "\($0.key)=\($0.value)" }.sorted()
            .joined(separator: "; ")
        return configuration
    }

    /// After the `101` the client connection is a tunnel: the client read timeout
    /// (``ClientReadTimeout``, here 1 s) must not close it while it is quiet.
    @Test func aQuietTunnelOutlivesTheClientReadTimeout() async throws {
        try await Self.withUpstream { upstreamPort in
            try await GatewayFixture.with(
                environment: ["GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)"],
                configure: { $0.clientTimeout = .seconds(1) }
            ) { fixture in
                let browser = fixture.browser()
                try await browser.logIn()
                let received = Mutex<[String]>([])
                let url = fixture.baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/ws/quiet"
                try await WebSocketClient.connect(
                    url: url, configuration: Self.clientConfiguration(browser), logger: Logger(label: "test")
                ) {
                    inbound, outbound, _ in
                    var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                    _ = try await messages.next()  // the greeting
                    try await Task.sleep(for: .milliseconds(2500))
                    try await outbound.write(.text("still-here"))
                    if case .text(let text)? = try await messages.next() { received.withLock { $0.append(text) } }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                #expect(received.withLock { $0 } == ["echo:still-here"])
            }
        }
    }

    /// A session's tunnel closes once the session ends (here: signed out from another tab);
    /// a tunnel whose session lives on stays open meanwhile.
    @Test func tunnelClosesWhenItsSessionEnds() async throws {
        try await Self.withUpstream { upstreamPort in
            try await GatewayFixture.with(
                environment: ["GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)"],
                configure: { $0.webSocketSessionCheck = .milliseconds(200) }
            ) { fixture in
                let leaving = fixture.browser()
                try await leaving.logIn()
                let staying = fixture.browser()
                try await staying.logIn()
                let url = fixture.baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/ws"
                let ended = NIOLockedValueBox<[String: Duration]>([:])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (name, clientConfiguration) in [
                        ("leaving", Self.clientConfiguration(leaving)), ("staying", Self.clientConfiguration(staying)),
                    ] {
                        group.addTask {
                            try await WebSocketClient.connect(
                                url: url, configuration: clientConfiguration, logger: Logger(label: "test")
                            ) { inbound, outbound, _ in
                                let opened = ContinuousClock.now
                                var iterator = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                                _ = try await iterator.next()  // the greeting: the tunnel is open
                                // The upstream greets right after its 101, then waits: that
                                // greeting must not wait for more upstream traffic.
                                ended.withLockedValue { $0[name + "-greeted"] = ContinuousClock.now - opened }
                                if name == "staying" {
                                    // Still answering well after the other session ended.
                                    try await Task.sleep(for: .seconds(2))
                                    try await outbound.write(.text("still here"))
                                    let echo = try await iterator.next()
                                    ended.withLockedValue { $0["staying-echo"] = echo == .text("echo:still here") ? .zero : .seconds(-1) }
                                    try await outbound.close(.normalClosure, reason: nil)
                                    return
                                }
                                // Keep talking until the gateway closes the tunnel (at most 10 s).
                                for _ in 0..<50 {
                                    do {
                                        try await outbound.write(.text("ping"))
                                        guard try await iterator.next() != nil else { break }
                                    } catch {
                                        break
                                    }
                                    try await Task.sleep(for: .milliseconds(200))
                                }
                                ended.withLockedValue { $0[name] = ContinuousClock.now - opened }
                            }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    let signOut = try await leaving.send("POST", "/oauth2/sign_out", headers: [("Origin", fixture.baseURL)])
                    #expect(signOut.status == 302)
                    try await group.waitForAll()
                }
                let results = ended.withLockedValue { $0 }
                let leftAfter = try #require(results["leaving"])
                #expect(leftAfter < .seconds(5), "closed \(leftAfter) after opening")
                #expect(results["staying-echo"] == .zero)
                for name in ["leaving", "staying"] {
                    let greeted = try #require(results[name + "-greeted"])
                    #expect(greeted < .seconds(5), "\(name) greeted after \(greeted)")
                }
            }
        }
    }

    @Test func handshakesAsTheClientSeesThem() async throws {
        try await Self.withUpstream { upstreamPort in
            try await GatewayFixture.with(environment: ["GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)"]) {
                fixture in
                let port = try #require(Int(fixture.baseURL.split(separator: ":").last ?? ""))
                // Without a session: the usual 401, and nothing reaches the upstream.
                let anonymous = try await Self.rawHandshake(port: port, path: "/ws", cookie: nil)
                #expect(anonymous.hasPrefix("HTTP/1.1 401"), "\(anonymous)")
                #expect(anonymous.lowercased().contains("connection: close"))

                let browser = fixture.browser()
                try await browser.logIn()
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                // Signed in: the upstream's 101, its accept value and chosen subprotocol.
                let accepted = try await Self.rawHandshake(
                    port: port, path: "/ws", cookie: cookie, extra: "Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n")
                #expect(accepted.hasPrefix("HTTP/1.1 101"), "\(accepted)")
                let lowered = accepted.lowercased()
                #expect(lowered.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="))
                #expect(lowered.contains("sec-websocket-protocol: chat.v1"))
                #expect(lowered.contains("upgrade: websocket"))
                // Cross-site WebSocket hijacking: a handshake with the session cookie from a page
                // of another origin is refused; from the gateway's own origin it goes through.
                let foreign = try await Self.rawHandshake(
                    port: port, path: "/ws", cookie: cookie, extra: "Origin: http://evil.example\r\n")
                #expect(foreign.hasPrefix("HTTP/1.1 403"), "\(foreign)")
                #expect(foreign.contains("cross_origin_websocket"))
                let sandboxed = try await Self.rawHandshake(port: port, path: "/ws", cookie: cookie, extra: "Origin: null\r\n")
                #expect(sandboxed.hasPrefix("HTTP/1.1 403"), "\(sandboxed)")
                let second = try await Self.rawHandshake(
                    port: port, path: "/ws", cookie: cookie,
                    extra: "Origin: \(fixture.baseURL)\r\nOrigin: https://evil.example\r\n")
                #expect(second.hasPrefix("HTTP/1.1 403"), "\(second)")
                let own = try await Self.rawHandshake(
                    port: port, path: "/ws", cookie: cookie, extra: "Origin: \(fixture.baseURL)\r\n")
                #expect(own.hasPrefix("HTTP/1.1 101"), "\(own)")
                // The upstream refuses this path: its status reaches the client.
                let refused = try await Self.rawHandshake(port: port, path: "/other", cookie: cookie)
                #expect(refused.hasPrefix("HTTP/1.1 400"), "\(refused)")
                #expect(refused.lowercased().contains("connection: close"))
            }
        }
    }

    @Test func unreachableUpstreamGives502Page() async throws {
        try await GatewayFixture.with(upstreamDown: true) { fixture in
            let port = try #require(Int(fixture.baseURL.split(separator: ":").last ?? ""))
            let browser = fixture.browser()
            try await browser.logIn()
            let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            let answer = try await Self.rawHandshake(port: port, path: "/ws", cookie: cookie)
            #expect(answer.hasPrefix("HTTP/1.1 502"), "\(answer)")
            #expect(answer.contains("upstream_unavailable"))
        }
    }

    @Test func otherUpgradesGet501() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let reply = try await browser.send("GET", "/x", headers: [("Connection", "Upgrade"), ("Upgrade", "h2c")])
            #expect(reply.status == 501)
            #expect(reply.body.contains("upgrade_not_supported"))
            #expect(reply.header("connection")?.lowercased() == "close")
        }
    }

    /// Sends a WebSocket handshake (RFC 6455's sample key) on a new TCP connection and returns
    /// what came back until the end of the head (and a little more), as text.
    static func rawHandshake(port: Int, path: String, cookie: String?, extra: String = "") async throws -> String {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        request += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        if let cookie { request += "Cookie: \(cookie)\r\n" }
        request += extra + "\r\n"
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var text = ""
            let deadline = ContinuousClock.now + .seconds(10)
            for try await chunk in inbound {
                text += String(buffer: chunk)
                if text.contains("\r\n\r\n"), text.hasPrefix("HTTP/1.1 101") || text.count > 400 { break }
                if ContinuousClock.now > deadline { break }
            }
            return text
        }
    }
}
