// swift-tools-version:6.2
import PackageDescription

import class Foundation.ProcessInfo

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Tests that need a server of their own (django-oauth-toolkit, idpyoidc, PostgreSQL, nginx, the
// Python DPoP resource server) live in each test target's `Interop/` folder and join only when
// GATEHOUSE_INTEROP_TESTS=1 asks, as `scripts/test.sh` does after starting those servers; there a
// missing server fails its tests. Plain `swift test` builds and runs the others, which need none.
let interopTests = ProcessInfo.processInfo.environment["GATEHOUSE_INTEROP_TESTS"] == "1"
let interopExcluded = interopTests ? [] : ["Interop"]
let testSwiftSettings = swiftSettings + (interopTests ? [.define("GATEHOUSE_INTEROP_TESTS")] : [])

let package = Package(
    name: "Gatehouse",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "GatehouseOAuth", targets: ["GatehouseOAuth"]),
        .library(name: "GatehouseStore", targets: ["GatehouseStore"]),
        .library(name: "GatehouseSQLite", targets: ["GatehouseSQLite"]),
        .library(name: "GatehousePostgres", targets: ["GatehousePostgres"]),
        .library(name: "GatehouseHummingbird", targets: ["GatehouseHummingbird"]),
        .library(name: "GatehouseTesting", targets: ["GatehouseTesting"]),
        .executable(name: "gatehouse", targets: ["gatehouse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "GatehouseOAuth",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseStore",
            dependencies: [
                "GatehouseOAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseSQLite",
            dependencies: [
                "GatehouseStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehousePostgres",
            dependencies: [
                "GatehouseStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseHummingbird",
            dependencies: [
                "GatehouseOAuth",
                "GatehouseStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseGateway",
            dependencies: [
                "GatehouseOAuth",
                "GatehouseStore",
                "GatehouseSQLite",
                "GatehousePostgres",
                "GatehouseHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseDevIdP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "gatehouse",
            dependencies: [
                "GatehouseOAuth",
                "GatehouseStore",
                "GatehouseSQLite",
                "GatehousePostgres",
                "GatehouseGateway",
                "GatehouseHummingbird",
                "GatehouseDevIdP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseTestSupport",
            dependencies: [
                "GatehouseOAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/GatehouseTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatehouseOAuthTests",
            dependencies: [
                "GatehouseOAuth",
                "GatehouseTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            exclude: interopExcluded,
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "GatehouseStoreTests",
            dependencies: [
                "GatehouseStore",
                "GatehouseSQLite",
                "GatehousePostgres",
                "GatehouseTestSupport",
                "GatehouseOAuth",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: interopExcluded,
            swiftSettings: testSwiftSettings
        ),
        .target(
            name: "GatehouseTesting",
            dependencies: [
                "GatehouseDevIdP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatehouseGatewayTests",
            dependencies: [
                "GatehouseGateway",
                "GatehouseTesting",
                "GatehouseHummingbird",
                "GatehouseStore",
                "GatehouseSQLite",
                "GatehousePostgres",
                "GatehouseOAuth",
                "GatehouseDevIdP",
                "GatehouseTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            exclude: interopExcluded,
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "GatehouseDevIdPTests",
            dependencies: [
                "GatehouseTesting",
                "GatehouseDevIdP",
                "GatehouseOAuth",
                "GatehouseTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            exclude: interopExcluded,
            swiftSettings: testSwiftSettings
        ),
    ]
)

// Benchmarks join the package only when asked, so users never build them.
if ProcessInfo.processInfo.environment["GATEHOUSE_BENCHMARKS"] != nil {
    package.targets.append(
        .executableTarget(
            name: "IDTokenBenchmark",
            dependencies: [
                "GatehouseOAuth",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Benchmarks/IDTokenBenchmark",
            swiftSettings: swiftSettings
        )
    )
    package.targets.append(
        .executableTarget(
            name: "StoreBenchmark",
            dependencies: [
                "GatehouseStore",
                "GatehouseSQLite",
                "GatehousePostgres",
                "GatehouseOAuth",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/StoreBenchmark",
            swiftSettings: swiftSettings
        )
    )
}
