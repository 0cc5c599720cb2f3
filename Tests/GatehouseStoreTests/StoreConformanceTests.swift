import Testing

/// The conformance cases against the in-memory and SQLite drivers (a fresh store each).
@Suite struct StoreConformanceTests {
    @Test(arguments: LocalBackend.allCases, ConformanceCase.allCases)
    func conformance(backend: LocalBackend, behaviour: ConformanceCase) async throws {
        try await backend.withFixture { fixture in
            try await behaviour.run(fixture)
        }
    }
}
