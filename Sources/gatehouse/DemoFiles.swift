import Foundation
import GatehouseDevIdP

/// The demo's files: its directory (mode 0700) and encryption key (mode 0600), made once and
/// reused so sessions survive a restart of the demo.
enum DemoFiles {
    /// The base64 key in `directory/encryption.key`, generated on first use.
    static func encryptionKey(in directory: String) throws -> String {
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DevIdPError("cannot create \(directory): \(error.localizedDescription)")
        }
        let path = (directory as NSString).appendingPathComponent("encryption.key")
        if let data = manager.contents(atPath: path) {
            let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard Data(base64Encoded: key)?.count == 32 else {
                throw DevIdPError("\(path) does not hold a base64 32-byte key; delete it to make a new one")
            }
            // Tighten permissions of a key file someone copied in.
            try? manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            return key
        }
        let key = randomBase64(bytes: 32)
        guard manager.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw DevIdPError("cannot write \(path)")
        }
        return key
    }

    /// `bytes` random bytes, base64.
    static func randomBase64(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }
}
