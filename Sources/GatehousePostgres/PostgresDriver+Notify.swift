public import GatehouseStore
import PostgresNIO

extension PostgresDriver {
    /// LISTEN on this schema's deletion channel (filled by the trigger of schema step 2) on a
    /// connection of its own, for as long as the calling task runs.
    public func observeDeletions(
        onListening: @escaping @Sendable () -> Void, _ onDeleted: @escaping @Sendable (SessionDeletion) -> Void
    ) async throws -> Bool {
        let logger = self.logger
        let configuredSchema = options.schema
        try await client.withConnection { connection in
            var schema = configuredSchema
            if schema == nil {
                let rows = try await connection.query("SELECT current_schema()", logger: logger)
                for try await name in rows.decode(String.self) { schema = name }
            }
            guard let schema else { throw StoreError.invalidConfiguration.withDetail("no current schema") }
            try await connection.listen(on: "gatehouse_deleted_" + schema) { notifications in
                onListening()
                for try await notification in notifications {
                    onDeleted(Self.deletion(fromPayload: notification.payload))
                }
            }
        }
        return true
    }

    /// A notice's payload: the deleted session's hash in hex, or `*`.
    static func deletion(fromPayload payload: String) -> SessionDeletion {
        guard payload != "*", let hash = SessionHash(hex: payload) else { return .many }
        return .session(hash)
    }
}
