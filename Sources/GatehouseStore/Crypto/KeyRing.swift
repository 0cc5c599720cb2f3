import Crypto
import Foundation

/// The encryption keys of the store: AES-256-GCM, the first key seals, every key opens.
///
/// A sealed value is `0x01 | key id (8 bytes) | nonce (12) | ciphertext | tag (16)`. The key id
/// is the first 8 bytes of the key's SHA-256, so a ciphertext names the key that opens it and
/// rotation needs no bookkeeping: put the new key first, keep the old ones after it until every
/// record has been rewritten (on its next write, or by ``SessionStore/reencryptAll()``).
///
/// The associated data is the header, a purpose tag and the id hash of the record the value
/// belongs to, so a ciphertext copied into another row, or a session copied into a PKCE
/// verifier field, does not open.
public struct KeyRing: Sendable {
    struct Entry: Sendable {
        let id: [UInt8]
        let idHex: String
        let key: SymmetricKey
    }

    /// What a sealed value is for; part of the associated data.
    enum Purpose: Sendable {
        /// A session: identity, provider, creation time, absolute deadline and token set
        /// (``SessionPayload``).
        case session
        /// A session's token set alone, as rows written before schema 2 hold it (their
        /// claims in clear beside it). Only opened, never sealed any more.
        case legacySessionTokens
        /// A pending authorization's PKCE verifier (and redirect URI).
        case pendingVerifier

        var tag: [UInt8] {
            switch self {
            case .session: Array("gatehouse/session/v2".utf8)
            case .legacySessionTokens: Array("gatehouse/session-tokens/v1".utf8)
            case .pendingVerifier: Array("gatehouse/pending-verifier/v1".utf8)
            }
        }
    }

    static let formatVersion: UInt8 = 0x01
    static let keyIDLength = 8
    static let nonceLength = 12
    static let tagLength = 16
    static let headerLength = 1 + keyIDLength

    /// First the primary (sealing) key, then the others.
    let entries: [Entry]

    /// A key ring from base64 keys (standard or URL alphabet, padding optional), each exactly
    /// 32 bytes. The first seals; all open.
    ///
    /// - Throws: ``StoreError/invalidConfiguration`` naming the entry (1-based) that is not
    ///   base64, is not 32 bytes long, or repeats an earlier one; never the key itself.
    public init(base64Keys: [String]) throws {
        guard !base64Keys.isEmpty else {
            throw StoreError.invalidConfiguration.withDetail(
                "no encryption key: set GATEHOUSE_ENCRYPTION_KEYS (make one with `gatehouse keys generate`)")
        }
        var entries: [Entry] = []
        for (index, text) in base64Keys.enumerated() {
            let position = "encryption key \(index + 1) of \(base64Keys.count)"
            guard let bytes = Self.decodeBase64(text) else {
                throw StoreError.invalidConfiguration.withDetail("\(position) is not valid base64")
            }
            guard bytes.count == 32 else {
                throw StoreError.invalidConfiguration.withDetail(
                    "\(position) is \(bytes.count) bytes; each key must be exactly 32 bytes (`gatehouse keys generate`)")
            }
            let id = Array(SHA256.hash(data: bytes).prefix(Self.keyIDLength))
            if let earlier = entries.firstIndex(where: { $0.id == id }) {
                throw StoreError.invalidConfiguration.withDetail("\(position) repeats key \(earlier + 1)")
            }
            entries.append(Entry(id: id, idHex: Self.hex(id), key: SymmetricKey(data: bytes)))
        }
        self.entries = entries
    }

    /// A fresh key: base64 of 32 bytes from the system CSPRNG.
    public static func generateKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// The id of the sealing key: 16 hex digits (the first 8 bytes of the key's SHA-256).
    /// Safe to print: it does not reveal the key.
    public var primaryKeyID: String { entries[0].idHex }

    /// The ids of every key, the sealing key first.
    public var keyIDs: [String] { entries.map(\.idHex) }

    /// Seals `plaintext` with the primary key for `purpose`, bound to the record `boundTo`.
    func seal(_ plaintext: [UInt8], purpose: Purpose, boundTo record: SessionHash) throws -> [UInt8] {
        let entry = entries[0]
        let header = [Self.formatVersion] + entry.id
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(
                plaintext, using: entry.key, nonce: AES.GCM.Nonce(),
                authenticating: Self.associatedData(header: header, purpose: purpose, record: record))
        } catch {
            throw StoreError.corrupt.withDetail("sealing failed")
        }
        return header + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
    }

    /// Opens a value sealed by ``seal(_:purpose:boundTo:)`` with any key of the ring.
    ///
    /// - Throws: ``StoreError/keyMissing`` when no key of the ring has the value's key id;
    ///   ``StoreError/tampered`` when the value is malformed or fails authentication (modified,
    ///   truncated, or sealed for another record or purpose).
    func open(_ sealed: [UInt8], purpose: Purpose, boundTo record: SessionHash) throws -> (
        plaintext: [UInt8], keyID: String
    ) {
        guard sealed.count >= Self.headerLength + Self.nonceLength + Self.tagLength,
            sealed[0] == Self.formatVersion
        else { throw StoreError.tampered.withDetail("not a sealed value of a known format") }
        let id = Array(sealed[1..<Self.headerLength])
        guard let entry = entries.first(where: { $0.id == id }) else {
            throw StoreError.keyMissing.withDetail("no key with id \(Self.hex(id)) in the key ring")
        }
        let nonceEnd = Self.headerLength + Self.nonceLength
        let tagStart = sealed.count - Self.tagLength
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: sealed[Self.headerLength..<nonceEnd]),
                ciphertext: sealed[nonceEnd..<tagStart],
                tag: sealed[tagStart...])
            let plaintext = try AES.GCM.open(
                box, using: entry.key,
                authenticating: Self.associatedData(
                    header: Array(sealed[0..<Self.headerLength]), purpose: purpose, record: record))
            return (Array(plaintext), entry.idHex)
        } catch {
            // On Linux a failed tag check is `CryptoKitError.underlyingCoreCryptoError`, on Apple
            // platforms `.authenticationFailure`: every failure here means the same thing.
            throw StoreError.tampered.withDetail("ciphertext failed authentication")
        }
    }

    /// The key id a sealed value names (without opening it), or `nil` when it is malformed.
    static func keyID(ofSealed sealed: [UInt8]) -> String? {
        guard sealed.count >= headerLength, sealed[0] == formatVersion else { return nil }
        return hex(Array(sealed[1..<headerLength]))
    }

    private static func associatedData(header: [UInt8], purpose: Purpose, record: SessionHash) -> [UInt8] {
        header + purpose.tag + [0] + record.bytes
    }

    private static func decodeBase64(_ text: String) -> [UInt8]? {
        var normalized = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        let remainder = normalized.utf8.count % 4
        if remainder == 2 || remainder == 3 {
            normalized += String(repeating: "=", count: 4 - remainder)
        }
        return Data(base64Encoded: normalized).map(Array.init)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
