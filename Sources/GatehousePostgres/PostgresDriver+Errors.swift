import GatehouseStore
import PostgresNIO

/// How the PostgreSQL driver reports failures: always ``StoreError``, with a detail that is
/// safe for logs (never the URL, the password, row contents or SQL parameters).
extension StoreError {
    /// The connection URL or an option cannot be used; `reason` names the problem.
    static func postgresConfiguration(_ reason: String) -> StoreError {
        .invalidConfiguration.withDetail("PostgreSQL: \(reason)")
    }

    /// `operation` did not finish before its deadline.
    static func postgresTimeout(_ operation: String) -> StoreError {
        .timeout.withDetail("PostgreSQL \(operation) did not finish in time (server unreachable, refusing the connection or login, or busy)")
    }

    /// Another holder kept a session lock past the lock timeout.
    static let postgresLockTimeout = StoreError.timeout.withDetail("timed out waiting for a PostgreSQL session lock")

    /// Translates what postgres-nio throws (cancellation passes through unchanged).
    static func translatingPostgres(_ error: any Error, operation: String) -> any Error {
        switch error {
        case is StoreError, is CancellationError:
            return error
        case let error as PostgresTransactionError:
            let inner = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
            return inner.map { translatingPostgres($0, operation: operation) }
                ?? StoreError.unavailable.withDetail("PostgreSQL transaction failed")
        case let error as PSQLError:
            guard error.code == .server else {
                return StoreError.unavailable.withDetail("PostgreSQL \(operation): \(error.code)")
            }
            switch error.serverInfo?[.sqlState] {
            case "23505": return StoreError.conflict.withDetail("PostgreSQL: the row exists")  // unique_violation
            case "55P03": return postgresLockTimeout  // lock_not_available (lock_timeout)
            case "57014": return postgresTimeout(operation)  // query_canceled (statement_timeout)
            case let state?: return StoreError.unavailable.withDetail("PostgreSQL \(operation): SQLSTATE \(state)")
            case nil: return StoreError.unavailable.withDetail("PostgreSQL \(operation): server error")
            }
        case is PostgresDecodingError:
            return StoreError.corrupt.withDetail("PostgreSQL \(operation): a column has an unexpected type")
        default:
            return StoreError.unavailable.withDetail("PostgreSQL \(operation): \(type(of: error))")
        }
    }
}
