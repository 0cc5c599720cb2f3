/// What ``StorageDriver/takePending(_:bindingHash:now:)`` found.
public enum PendingTake: Sendable, Hashable {
    /// The row, now deleted: this caller, and no other, has it.
    case taken(PendingRow)
    /// A live row with this state exists, bound to another browser: it was left in place.
    case bindingMismatch
    /// No live row with this state (never issued, already used, expired).
    case none
}

extension SessionHash {
    /// The lowest and highest hashes starting with `prefix` (1 to 32 bytes): a range on a
    /// primary key of hashes, for ``StorageDriver/deletePending(stateHashPrefix:bindingHash:)``.
    package static func bounds(prefix: [UInt8]) -> (low: [UInt8], high: [UInt8])? {
        guard (1...32).contains(prefix.count) else { return nil }
        let padding = 32 - prefix.count
        return (prefix + [UInt8](repeating: 0, count: padding), prefix + [UInt8](repeating: 0xFF, count: padding))
    }
}
