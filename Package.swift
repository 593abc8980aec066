// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "thermos-swift",
    products: [
        .executable(name: "thermos", targets: ["thermos"]),
        .executable(name: "thermos-coordinator", targets: ["thermos-coordinator"]),
        .library(name: "ThermosRuntime", targets: ["ThermosRuntime"]),
        .library(name: "ThermosCheckpoint", targets: ["ThermosCheckpoint"]),
        .library(name: "ThermosConfig", targets: ["ThermosConfig"]),
        .library(name: "ThermosPlanner", targets: ["ThermosPlanner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // The syscalls and GNU extensions Glibc does not import (pipe2, spawn chdir/closefrom, SETSID).
        .target(
            name: "CThermosSys",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // Pure core: checkpoint codec, RecordIO, replay, path layout. No Foundation (the coordinator links it).
        .target(
            name: "ThermosCheckpoint",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: strictSettings
        ),
        // Pure core: schema, JSON/YAML loading, templating, validation, combinators.
        .target(
            name: "ThermosConfig",
            dependencies: [
                "ThermosCheckpoint",
                .product(name: "Yams", package: "Yams"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // Pure core: Planner and TaskPlanner, clock passed in.
        .target(
            name: "ThermosPlanner",
            dependencies: ["ThermosConfig"],
            swiftSettings: strictSettings
        ),
        // Effects: the runner state machine, coordinator launch, event loop, process helpers.
        .target(
            name: "ThermosRuntime",
            dependencies: [
                "ThermosCheckpoint", "ThermosConfig", "ThermosPlanner", "CThermosSys",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // One run of one process: no Foundation, synchronous main, starts in about a millisecond.
        .executableTarget(
            name: "thermos-coordinator",
            dependencies: ["ThermosCheckpoint", "CThermosSys"],
            swiftSettings: strictSettings,
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),
        // The CLI: parses, calls the modules, prints.
        .executableTarget(
            name: "thermos",
            dependencies: [
                "ThermosCheckpoint", "ThermosConfig", "ThermosPlanner", "ThermosRuntime", "CThermosSys",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // Helpers for the test suites only: fixture paths, temp dirs, spawning commands.
        .target(
            name: "ThermosTestSupport",
            dependencies: ["CThermosSys"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosCheckpointTests",
            dependencies: ["ThermosCheckpoint", "ThermosTestSupport", .product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosConfigTests",
            dependencies: ["ThermosConfig", "ThermosTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosPlannerTests",
            dependencies: ["ThermosPlanner", "ThermosConfig"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosRuntimeTests",
            dependencies: [
                "ThermosRuntime", "ThermosCheckpoint", "ThermosConfig", "ThermosPlanner", "ThermosTestSupport",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosCLITests",
            dependencies: [
                "thermos", "thermos-coordinator", "ThermosCheckpoint", "ThermosTestSupport",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
