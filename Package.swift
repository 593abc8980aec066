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
        .executable(name: "thermos-observer", targets: ["thermos-observer"]),
        .executable(name: "thermos-runner", targets: ["thermos-runner"]),
        .library(name: "ThermosRuntime", targets: ["ThermosRuntime"]),
        .library(name: "ThermosCheckpoint", targets: ["ThermosCheckpoint"]),
        .library(name: "ThermosConfig", targets: ["ThermosConfig"]),
        .library(name: "ThermosConfigLoading", targets: ["ThermosConfigLoading"]),
        .library(name: "ThermosPlanner", targets: ["ThermosPlanner"]),
        .library(name: "ThermosMonitor", targets: ["ThermosMonitor"]),
        .library(name: "ThermosObserver", targets: ["ThermosObserver"]),
        .library(name: "ThermosSlurm", targets: ["ThermosSlurm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Observer: Hummingbird without its default traits links only FoundationEssentials.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Observer: NIO handlers and thread pool, services, logging (all already under Hummingbird).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // The syscalls and GNU extensions Glibc does not import (pipe2, spawn chdir/closefrom, SETSID).
        .target(
            name: "CThermosSys",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The one platform layer (no Foundation): /proc snapshots, spawning, inotify, the wall
        // clock, file helpers; every syscall result checked. Used by the runner, coordinator and tests.
        .target(
            name: "ThermosPlatform",
            dependencies: ["CThermosSys", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSettings
        ),
        // swift-log with the original's glog line shape (no Foundation).
        .target(
            name: "ThermosLogging",
            dependencies: ["ThermosPlatform", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Pure core: checkpoint codec, RecordIO, replay, path layout. No Foundation (the coordinator links it).
        .target(
            name: "ThermosCheckpoint",
            dependencies: ["ThermosPlatform", .product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: strictSettings
        ),
        // The runner↔coordinator protocol (`CoordinatorInvocation`), shared by both sides. No Foundation.
        .target(
            name: "ThermosCoordination",
            dependencies: ["ThermosCheckpoint"],
            swiftSettings: strictSettings
        ),
        // The runner's control socket protocol and client (`thermos restart|stop|start|kill`, the
        // observer's buttons). No Foundation: the runner, the CLI and the observer share it.
        .target(
            name: "ThermosControl",
            dependencies: ["ThermosCheckpoint"],
            swiftSettings: strictSettings
        ),
        // Pure core, no Foundation (the runner links it): schema, `ConfigValue` and its JSON
        // parser, templating, validation, combinators, the DSL loader's protocol.
        .target(
            name: "ThermosConfig",
            dependencies: [
                "ThermosCheckpoint",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            exclude: ["DSL/Python"],
            swiftSettings: strictSettings
        ),
        // Config files (Foundation, Yams): the YAML/JSON file loader of the CLI.
        .target(
            name: "ThermosConfigLoading",
            dependencies: [
                "ThermosConfig",
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
                "ThermosCheckpoint", "ThermosConfig", "ThermosPlanner", "ThermosPlatform", "ThermosCoordination", "CThermosSys",
                "ThermosControl", "CThermosConfine",
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // One run of one process: no Foundation, synchronous main, static stdlib in release.
        .executableTarget(
            name: "thermos-coordinator",
            dependencies: ["ThermosCheckpoint", "ThermosCoordination", "ThermosPlatform", "CThermosSys", "CThermosConfine"],
            swiftSettings: strictSettings,
            // -z now: every libc symbol is bound when the fork server starts, so a forked
            // coordinator never binds one lazily (a write to its copy-on-write GOT per symbol).
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-z", "-Xlinker", "now"], .when(configuration: .release))]
        ),
        // The runner process (`thermos run`/`simplerun`/`runner` exec it with the evaluated task):
        // no Foundation, no argument parser, no server stack; static stdlib in release.
        .executableTarget(
            name: "thermos-runner",
            dependencies: ["ThermosRuntime", "ThermosCheckpoint", "ThermosConfig", "ThermosCoordination", "ThermosLogging", "ThermosPlatform", "CThermosSys",
                .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings,
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),
        // Effects over roots: task detection (inotify), incremental TaskMonitor, /proc sampler,
        // disk usage, resource history, GC policy. No HTTP.
        .target(
            name: "ThermosMonitor",
            dependencies: [
                "ThermosCheckpoint", "ThermosConfig", "ThermosPlatform", "CThermosSys",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // openat2(2) (no glibc wrapper) and renameat2(RENAME_EXCHANGE) for the observer.
        .target(
            name: "CThermosConfine",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The observer: HTTP server (Hummingbird), JSON API, HTML UI, confined file access,
        // metrics, background services. Assets/ holds the templates and static files that
        // Assets/generate.py embeds into Generated/EmbeddedAssets.swift.
        .target(
            name: "ThermosObserver",
            dependencies: [
                "ThermosMonitor", "ThermosCheckpoint", "ThermosConfig", "CThermosConfine", "ThermosControl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Assets"],
            swiftSettings: strictSettings
        ),
        // The observer daemon (`thermos observer` execs it): the server stack lives only here.
        .executableTarget(
            name: "thermos-observer",
            dependencies: [
                "ThermosObserver", "ThermosMonitor", "ThermosCheckpoint",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Slurm: batch-script rendering, squeue parsing, job records, observer queries, and the
        // runner of Slurm's client commands (submit/jobs/cancel keep the CLI thin).
        .target(
            name: "ThermosSlurm",
            dependencies: ["CThermosSys", "ThermosPlatform"],
            swiftSettings: strictSettings
        ),
        // The CLI: parses, calls the modules, prints.
        .executableTarget(
            name: "thermos",
            dependencies: [
                "ThermosCheckpoint", "ThermosConfig", "ThermosConfigLoading", "ThermosPlanner", "ThermosRuntime", "ThermosPlatform", "CThermosSys",
                "ThermosLogging", "ThermosMonitor", "ThermosSlurm", "ThermosControl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings,
            // Release: the stdlib and Foundation linked in statically (no dynamic loading and
            // symbol binding of Foundation and ICU at every start: `thermos --version` 5 ms
            // instead of 15). The driver's autolinking lists Foundation's static archives before
            // the ones they need, so those are named again after them.
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-lCoreFoundation", "-Xlinker", "-l_FoundationICU", "-Xlinker", "-lFoundationEssentials", "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-lFoundationInternationalization", "-Xlinker", "-lswiftSynchronization", "-Xlinker", "-lswift_RegexParser", "-Xlinker", "-lswift_StringProcessing", "-Xlinker", "-lstdc++", "-Xlinker", "-lm"], .when(configuration: .release))]
        ),
        // Helpers for the test suites only: fixture paths, temp dirs, spawning commands.
        .target(
            name: "ThermosTestSupport",
            dependencies: ["CThermosSys", "ThermosCheckpoint", "ThermosPlatform", .product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosCheckpointTests",
            dependencies: ["ThermosCheckpoint", "ThermosTestSupport", .product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosPlatformTests",
            dependencies: [
                "ThermosPlatform", "ThermosCoordination", "ThermosLogging", "ThermosCheckpoint", "ThermosTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosConfigTests",
            dependencies: ["ThermosConfig", "ThermosConfigLoading", "ThermosTestSupport"],
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
                "ThermosRuntime", "ThermosCheckpoint", "ThermosConfig", "ThermosConfigLoading", "ThermosPlanner", "ThermosPlatform", "ThermosTestSupport",
                "ThermosControl", "ThermosCoordination",
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosCLITests",
            dependencies: [
                "thermos", "thermos-coordinator", "thermos-observer", "thermos-runner", "ThermosCheckpoint", "ThermosPlatform", "ThermosTestSupport",
                "ThermosControl", "ThermosCoordination", "CThermosSys",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosMonitorTests",
            dependencies: [
                "ThermosMonitor", "ThermosCheckpoint", "ThermosConfig", "ThermosPlatform", "ThermosTestSupport",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThermosSlurmTests",
            dependencies: ["ThermosSlurm", "ThermosTestSupport"],
            swiftSettings: strictSettings
        ),
        // HummingbirdTesting pulls async-http-client and swift-nio-ssl: kept in its own target.
        .testTarget(
            name: "ThermosObserverTests",
            dependencies: [
                "ThermosObserver", "ThermosMonitor", "ThermosCheckpoint", "ThermosTestSupport", "CThermosConfine",
                "thermos-observer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
