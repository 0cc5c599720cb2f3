/// What ``SessionStore/consumePending(state:bindingValue:)`` found for a callback.
public enum PendingConsumption: Sendable {
    /// The login, taken out of the store: this caller alone has it.
    case consumed(StoredPending)
    /// A live login with this `state` exists, but this browser does not hold its binding
    /// cookie (login CSRF, another browser, or a login the browser gave up). Left in place.
    case bindingMismatch
    /// No such login: never issued, already used, expired or unreadable (logged).
    case unknown
}
