import Foundation
import GatehouseStore
import Logging
import Testing
@testable import GatehousePostgres

/// The conformance cases against PostgreSQL (`GATEHOUSE_TEST_POSTGRES_URL`, started by
/// `scripts/test.sh`). Without the variable every case fails: a missing database is never a
/// silent skip. Serialized, because `deleteEverything` and the purge cases reach the whole
/// shared database.
@Suite(.serialized) struct PostgresStoreConformanceTests {
    @Test(arguments: ConformanceCase.allCases)
    func conformance(behaviour: ConformanceCase) async throws {
        let url = try #require(
            ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"],
            "GATEHOUSE_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, or point it at a PostgreSQL database (postgres://user:password@127.0.0.1:5432/db)"
        )
        var logger = Logger(label: "gatehouse.store.tests")
        logger.logLevel = .warning
        try await PostgresDriver.withDriver(url: url, logger: logger) { driver in
            try await behaviour.run(StoreFixture(driver: driver, isolated: false))
        }
    }
}
