import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

enum EncryptionCases {
    static func tamperedCiphertext(_ f: StoreFixture) async throws {
        let store = try f.store()
        let (id, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let original = try #require(try await f.driver.session(id.hash)).sealed

        for position in [0, 5, 15, original.count / 2, original.count - 1] {
            var tampered = original
            tampered[position] ^= 0x01
            try await f.replaceSealedTokens(of: id.hash, with: tampered)
            #expect(try await f.store().load(id) == nil, "byte \(position) flipped")
        }
        try await f.replaceSealedTokens(of: id.hash, with: Array(original.prefix(20)))
        #expect(try await f.store().load(id) == nil, "truncated")
        try await f.replaceSealedTokens(of: id.hash, with: [])
        #expect(try await f.store().load(id) == nil, "empty")

        #expect(try await f.driver.session(id.hash) != nil, "an unreadable session is kept")
        try await f.replaceSealedTokens(of: id.hash, with: original)
        #expect(try await f.store().load(id) != nil, "restored, it loads again")
    }

    static func copiedCiphertext(_ f: StoreFixture) async throws {
        let store = try f.store()
        let (a, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let (b, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let sealedA = try #require(try await f.driver.session(a.hash)).sealed

        // A's tokens pasted into B's row: bound to A's id hash, they do not open for B.
        try await f.replaceSealedTokens(of: b.hash, with: sealedA)
        #expect(try await f.store().load(b) == nil)
        #expect(try await f.store().load(a) != nil)
        #expect(try await f.driver.session(b.hash) != nil)

        // A token set pasted into a pending authorization's verifier field (same record id).
        let pending = f.pending()
        try await store.savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")
        let row = try #require(try await f.driver.takePending(SessionHash(of: pending.state), now: 0))
        let keyRing = try KeyRing(base64Keys: [TestKeys.first])
        var forged = row
        forged.sealedVerifier = try keyRing.seal(
            Array(#"{"codeVerifier":"x","redirectURI":"y"}"#.utf8), purpose: .session, boundTo: row.stateHash)
        try await f.driver.insertPending(forged)
        #expect(try await store.consumePending(state: pending.state) == nil, "another purpose does not open")

        // One pending authorization's verifier pasted into another's row.
        let victim = f.pending()
        let donor = f.pending()
        try await store.savePending(victim, bindingValue: "b", returnPath: "/", provider: "oidc")
        try await store.savePending(donor, bindingValue: "b", returnPath: "/", provider: "oidc")
        let donorRow = try #require(try await f.driver.takePending(SessionHash(of: donor.state), now: 0))
        var victimRow = try #require(try await f.driver.takePending(SessionHash(of: victim.state), now: 0))
        victimRow.sealedVerifier = donorRow.sealedVerifier
        try await f.driver.insertPending(victimRow)
        #expect(try await store.consumePending(state: victim.state) == nil)
    }

    static func wrongKeyRing(_ f: StoreFixture) async throws {
        let store = try f.store(keys: [TestKeys.first])
        let (id, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let wrong = try f.store(keys: [TestKeys.unrelated])
        #expect(try await wrong.load(id) == nil)
        #expect(try await wrong.load(id) == nil)
        #expect(try await f.driver.session(id.hash) != nil, "not deleted: the operator may restore the key")
        #expect(try await f.store(keys: [TestKeys.first]).load(id) != nil)
        #expect(try await wrong.reencryptAll().skipped >= 1)
        #expect(try await f.store(keys: [TestKeys.first]).load(id) != nil, "re-encryption skipped it")

        let pending = f.pending()
        try await store.savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")
        #expect(try await wrong.consumePending(state: pending.state) == nil)
    }

    static func rotatedKeyRing(_ f: StoreFixture) async throws {
        let old = try f.store(keys: [TestKeys.first])
        let rotated = try f.store(keys: [TestKeys.second, TestKeys.first])
        let newOnly = try f.store(keys: [TestKeys.second])
        let oldKeyID = old.keyRing.primaryKeyID
        let newKeyID = rotated.keyRing.primaryKeyID
        #expect(oldKeyID != newKeyID)

        let (updatedID, _) = try await old.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let (untouchedID, _) = try await old.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let pending = f.pending()
        try await old.savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")

        // Old sessions and logins in flight still open after the rotation.
        let loaded = try #require(try await rotated.load(updatedID))
        #expect(try await keyID(f, updatedID) == oldKeyID)
        #expect(try await rotated.consumePending(state: pending.state) != nil)
        #expect(try await newOnly.load(untouchedID) == nil, "the old key is still needed")
        #expect(try await f.driver.session(untouchedID.hash) != nil)

        // The next write seals with the new key.
        let refreshed = f.tokens("after-rotation")
        #expect(try await rotated.updateTokens(loaded, to: refreshed) != nil)
        #expect(try await keyID(f, updatedID) == newKeyID)
        #expect(try await keyID(f, untouchedID) == oldKeyID)

        // Re-encrypt everything; then the old key can go.
        let rewritten = try await rotated.reencryptAll()
        if f.isolated { #expect(rewritten == .init(resealed: 1)) } else { #expect(rewritten.resealed >= 1) }
        #expect(try await keyID(f, untouchedID) == newKeyID)
        #expect(try await rotated.reencryptAll() == .init() || !f.isolated)
        #expect(try await newOnly.load(updatedID)?.tokens == SessionTokens(refreshed))
        #expect(try await newOnly.load(untouchedID) != nil)
        #expect(try await old.load(hash: untouchedID.hash, bypassCache: true) == nil, "old ring alone: key missing")
    }

    private static func keyID(_ f: StoreFixture, _ id: SessionID) async throws -> String? {
        KeyRing.keyID(ofSealed: try #require(try await f.driver.session(id.hash)).sealed)
    }
}
