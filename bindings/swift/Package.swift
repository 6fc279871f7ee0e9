// swift-tools-version:5.9
// The Swift package of tvpass. On Apple platforms the native library comes as the
// TVPassFFI.xcframework binary target (built by build-xcframework.sh); on Linux (CI) it is the
// host library linked as a system library. The generated TVPass.swift is produced by the scripts.
import PackageDescription

#if os(Linux)
let ffiTarget: Target = .systemLibrary(name: "TVPassFFI", path: "Sources/TVPassFFILinux")
#else
let ffiTarget: Target = .binaryTarget(name: "TVPassFFI", path: "TVPassFFI.xcframework")
#endif

let package = Package(
    name: "TVPass",
    platforms: [.iOS(.v15), .tvOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "TVPass", targets: ["TVPass"]),
    ],
    targets: [
        ffiTarget,
        .target(name: "TVPass", dependencies: ["TVPassFFI"], path: "Sources/TVPass"),
        .testTarget(name: "TVPassTests", dependencies: ["TVPass"], path: "Tests/TVPassTests"),
    ]
)
