import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

enum DeleteCases {
    static func deleteOne(_ f: StoreFixture) async throws {
        let store = try f.store()
        let (first, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let (second, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        #expect(try await store.delete(first.hash))
        #expect(try await store.load(first) == nil)
        #expect(try await f.driver.session(first.hash) == nil)
        #expect(try await store.delete(first.hash) == false, "a second delete finds nothing")
        #expect(try await store.load(second) != nil)
    }

    static func deleteBySubject(_ f: StoreFixture) async throws {
        let store = try f.store()
        let subject = "everywhere-\(UUID().uuidString)"
        var ids: [SessionID] = []
        for _ in 0..<3 {
            ids.append(try await store.create(identity: f.identity(subject: subject), provider: "oidc", tokens: f.tokens()).0)
        }
        let (other, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        for id in ids { #expect(try await store.load(id) != nil) }
        #expect(try await store.deleteAll(subject: subject) == 3)
        for id in ids {
            #expect(try await store.load(id) == nil)
            #expect(try await f.driver.session(id.hash) == nil)
        }
        #expect(try await store.load(other) != nil)
        #expect(try await store.deleteAll(subject: subject) == 0)
    }

    static func deleteByIdPSession(_ f: StoreFixture) async throws {
        let store = try f.store()
        let sid = "sid-\(UUID().uuidString)"
        let (a, _) = try await store.create(identity: f.identity(sid: sid), provider: "oidc", tokens: f.tokens())
        let (b, _) = try await store.create(identity: f.identity(sid: sid), provider: "oidc", tokens: f.tokens())
        let (c, _) = try await store.create(
            identity: f.identity(sid: "sid-\(UUID().uuidString)"), provider: "oidc", tokens: f.tokens())
        let (d, _) = try await store.create(identity: f.identity(sid: nil), provider: "oidc", tokens: f.tokens())
        #expect(try await store.load(a) != nil)
        #expect(try await store.deleteAll(idpSessionID: sid) == 2)
        #expect(try await store.load(a) == nil)
        #expect(try await store.load(b) == nil)
        #expect(try await store.load(c) != nil)
        #expect(try await store.load(d) != nil)
    }

    /// A subject or IdP session id is unique only within its issuer: a logout from one
    /// provider ends the sessions of that provider only (the same `sub` and `sid` from another
    /// provider is someone else).
    static func deleteOfOneProvider(_ f: StoreFixture) async throws {
        let store = try f.store()
        let subject = "shared-\(UUID().uuidString)"
        let sid = "sid-\(UUID().uuidString)"
        let (corp, _) = try await store.create(
            identity: f.identity(subject: subject, sid: sid), provider: "corp", tokens: f.tokens())
        let (partner, _) = try await store.create(
            identity: f.identity(subject: subject, sid: sid), provider: "partner", tokens: f.tokens())
        #expect(try await store.deleteAll(idpSessionID: sid, provider: "partner") == 1)
        #expect(try await store.load(partner) == nil)
        #expect(try await store.load(corp) != nil)
        let (partnerAgain, _) = try await store.create(
            identity: f.identity(subject: subject, sid: nil), provider: "partner", tokens: f.tokens())
        #expect(try await store.deleteAll(subject: subject, provider: "partner") == 1)
        #expect(try await store.load(partnerAgain) == nil)
        #expect(try await store.load(corp)?.provider == "corp")
        #expect(try await store.deleteAll(subject: subject, provider: nil) == 1)
    }

    static func deleteEverything(_ f: StoreFixture) async throws {
        let store = try f.store()
        var ids: [SessionID] = []
        for _ in 0..<3 {
            ids.append(try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens()).0)
        }
        let pending = f.pending()
        try await store.savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")
        for id in ids { #expect(try await store.load(id) != nil) }
        let deleted = try await store.deleteEverything()
        if f.isolated {
            #expect(deleted == 3)
            #expect(try await store.activeCount() == 0)
        } else {
            #expect(deleted >= 3)
        }
        for id in ids {
            #expect(try await store.load(id) == nil)
            #expect(try await f.driver.session(id.hash) == nil)
        }
        #expect(try await store.consumePending(state: pending.state) != nil, "sessions only")
    }
}
