import Crypto
import Foundation
@testable import GatehouseStore
import Testing

@Suite struct KeyRingTests {
    let record = SessionHash(of: "record")

    @Test func sealsInTheDocumentedFormatAndOpens() throws {
        let ring = try KeyRing(base64Keys: [TestKeys.first, TestKeys.second])
        let plaintext = Array("secret tokens".utf8)
        let sealed = try ring.seal(plaintext, purpose: .session, boundTo: record)
        #expect(sealed.count == 1 + 8 + 12 + plaintext.count + 16)
        #expect(sealed[0] == 0x01)
        #expect(KeyRing.keyID(ofSealed: sealed) == ring.primaryKeyID)
        let opened = try ring.open(sealed, purpose: .session, boundTo: record)
        #expect(opened.plaintext == plaintext)
        #expect(opened.keyID == ring.primaryKeyID)
        #expect(try ring.seal(plaintext, purpose: .session, boundTo: record) != sealed, "fresh nonce")
    }

    @Test func keyIDIsTheStartOfTheKeysSHA256() throws {
        let key = Data(repeating: 7, count: 32)
        let ring = try KeyRing(base64Keys: [key.base64EncodedString()])
        let digest = SHA256.hash(data: key).prefix(8).map { String(format: "%02x", $0) }.joined()
        #expect(ring.primaryKeyID == digest)
        #expect(ring.keyIDs == [digest])
    }

    @Test func otherRecordOrPurposeIsTampered() throws {
        let ring = try KeyRing(base64Keys: [TestKeys.first])
        let sealed = try ring.seal([1, 2, 3], purpose: .session, boundTo: record)
        #expect(throws: StoreError.tampered) {
            try ring.open(sealed, purpose: .session, boundTo: SessionHash(of: "other"))
        }
        #expect(throws: StoreError.tampered) { try ring.open(sealed, purpose: .pendingVerifier, boundTo: record) }
        for index in sealed.indices where index != 0 && !(1...8).contains(index) {
            var modified = sealed
            modified[index] ^= 0x80
            #expect(throws: StoreError.tampered) { try ring.open(modified, purpose: .session, boundTo: record) }
        }
        #expect(throws: StoreError.tampered) { try ring.open([], purpose: .session, boundTo: record) }
        #expect(throws: StoreError.tampered) {
            try ring.open(Array(sealed.dropLast()), purpose: .session, boundTo: record)
        }
    }

    @Test func unknownKeyIsKeyMissing() throws {
        let sealed = try KeyRing(base64Keys: [TestKeys.first]).seal([1], purpose: .session, boundTo: record)
        let other = try KeyRing(base64Keys: [TestKeys.unrelated])
        #expect(throws: StoreError.keyMissing) { try other.open(sealed, purpose: .session, boundTo: record) }
        var renamed = sealed
        renamed[3] ^= 0x01
        let ring = try KeyRing(base64Keys: [TestKeys.first])
        #expect(throws: StoreError.keyMissing) { try ring.open(renamed, purpose: .session, boundTo: record) }
    }

    @Test func rotatedRingOpensOldAndSealsNew() throws {
        let old = try KeyRing(base64Keys: [TestKeys.first])
        let rotated = try KeyRing(base64Keys: [TestKeys.second, TestKeys.first])
        let sealed = try old.seal([42], purpose: .session, boundTo: record)
        #expect(try rotated.open(sealed, purpose: .session, boundTo: record).keyID == old.primaryKeyID)
        let resealed = try rotated.seal([42], purpose: .session, boundTo: record)
        #expect(KeyRing.keyID(ofSealed: resealed) == rotated.primaryKeyID)
        #expect(throws: StoreError.keyMissing) { try old.open(resealed, purpose: .session, boundTo: record) }
    }

    @Test func badConfigurationNamesTheEntryNeverTheKey() throws {
        let short = Data(repeating: 1, count: 16).base64EncodedString()
        let cases: [([String], String)] = [
            ([], "no encryption key"),
            ([TestKeys.first, "not base64 at all!"], "encryption key 2 of 2 is not valid base64"),
            ([short], "encryption key 1 of 1 is 16 bytes"),
            ([TestKeys.first, TestKeys.second, TestKeys.first], "encryption key 3 of 3 repeats key 1"),
        ]
        for (keys, message) in cases {
            let error = try #require(throws: StoreError.self) { try KeyRing(base64Keys: keys) }
            #expect(error == .invalidConfiguration)
            #expect(error.description.contains(message), "\(error)")
            #expect(!error.description.contains(short) && !error.description.contains(TestKeys.first))
        }
    }

    @Test func acceptsURLAlphabetAndSurroundingSpace() throws {
        let bytes = Data((0..<32).map { UInt8(250 - $0) })
        let url = bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let standard = try KeyRing(base64Keys: [bytes.base64EncodedString()])
        #expect(try KeyRing(base64Keys: [" \(url)\n"]).primaryKeyID == standard.primaryKeyID)
    }

    @Test func generatedKeysAre32RandomBytes() throws {
        let key = KeyRing.generateKey()
        #expect(Data(base64Encoded: key)?.count == 32)
        #expect(KeyRing.generateKey() != key)
        _ = try KeyRing(base64Keys: [key])
    }
}
