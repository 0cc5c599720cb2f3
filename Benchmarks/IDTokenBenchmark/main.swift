// ID-token validation throughput against the raw signature check it is built on.
//
// For RS256 (2048-bit) and ES256 it measures, single-threaded, on the same token:
//   full  `IDTokenVerifier.verify(_:keys:expecting:now:)` with a warm `KeySet`: parse, key
//         selection, signature, every claim check including nonce and at_hash;
//   raw   jwt-kit's `JWTAlgorithm.verify(_:signs:)` on the verifier jwt-kit itself builds for
//         the same JWK (`JWTKeyCollection.add(jwk:)` then `getKey(for:alg:)`), given the
//         already-decoded signature and signing input — the floor the full path stands on;
//   swift-crypto  the same check straight on swift-crypto (SHA-256 of the signing input, then
//         `isValidSignature`), for reference only: it shows jwt-kit's own overhead.
// The target is full ≥ 90% of raw.
//
// Run: scripts/bench-idtoken.sh [--rounds N] [--seconds S]

import Crypto
import CryptoExtras
import Foundation
import GatehouseOAuth
import JWTKit

// MARK: Options

struct Options {
    var rounds = 7
    var secondsPerRound = 1.0
    var warmupSeconds = 0.5
    var target = 0.90
    /// `--profile full|raw|crypto N`: run only that, N times per algorithm, untimed (for callgrind/perf).
    var profile: (kind: String, iterations: Int)?
    /// `--only RS256|ES256`: measure one algorithm.
    var only: String?

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--rounds": rounds = iterator.next().flatMap(Int.init) ?? rounds
            case "--seconds": secondsPerRound = iterator.next().flatMap(Double.init) ?? secondsPerRound
            case "--warmup": warmupSeconds = iterator.next().flatMap(Double.init) ?? warmupSeconds
            case "--only": only = iterator.next()
            case "--profile":
                guard let kind = iterator.next(), let count = iterator.next().flatMap(Int.init) else { fallthrough }
                profile = (kind, count)
            default:
                print("usage: IDTokenBenchmark [--rounds N] [--seconds S] [--warmup S] [--profile full|raw|crypto N] [--only RS256|ES256]")
                exit(2)
            }
        }
        rounds = max(1, rounds)
    }
}

// MARK: Fixtures

/// A realistic ID token payload: the 15 claims a typical IdP sends.
struct RealisticClaims: JWTPayload {
    var iss: String
    var sub: String
    var aud: String
    var exp: Int
    var iat: Int
    var auth_time: Int
    var nonce: String
    var at_hash: String
    var email: String
    var email_verified: Bool
    var name: String
    var preferred_username: String
    var groups: [String]
    var sid: String
    var jti: String

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

func base64URL(_ bytes: some DataProtocol) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func base64URLDecode(_ text: Substring) -> [UInt8] {
    var padded = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while padded.utf8.count % 4 != 0 { padded += "=" }
    guard let data = Data(base64Encoded: padded) else { fatalError("bad base64url in minted token") }
    return Array(data)
}

func randomToken(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return base64URL((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
}

/// Everything one algorithm's measurements need, built once.
struct Case: Sendable {
    var label: String
    var token: String
    var tamperedToken: String
    var keySet: KeySet
    var expectations: IDTokenExpectations
    var now: Date
    var nonce: String
    var subject: String
    /// jwt-kit's verifier for the same public JWK.
    var rawVerifier: any JWTAlgorithm
    var signature: [UInt8]
    var signingInput: [UInt8]
    /// swift-crypto directly: returns whether the signature verifies.
    var cryptoVerify: @Sendable ([UInt8], [UInt8]) -> Bool
}

let issuer = "https://idp.example.com/realms/gatehouse"
let clientID = "gatehouse-web-7f3a9c"

func makeClaims(now: Date, nonce: String, accessToken: String, subject: String) -> RealisticClaims {
    let seconds = Int(now.timeIntervalSince1970)
    let atHash = base64URL(Array(SHA256.hash(data: Array(accessToken.utf8))).prefix(16))
    return RealisticClaims(
        iss: issuer,
        sub: subject,
        aud: clientID,
        exp: seconds + 300,
        iat: seconds - 5,
        auth_time: seconds - 30,
        nonce: nonce,
        at_hash: atHash,
        email: "ada.lovelace@example.com",
        email_verified: true,
        name: "Ada Lovelace",
        preferred_username: "ada",
        groups: ["engineering", "platform-admins", "oncall-primary", "staff"],
        sid: "6b0f5c2e-2d43-4d8e-9a51-0c3b1f2e7a90",
        jti: "b9c1e2d4-7f6a-4c3b-8e5d-1a2b3c4d5e6f"
    )
}

/// Flips one character in the payload, so the token is well formed but its signature fails.
func tamper(_ token: String) -> String {
    var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    var payload = Array(parts[1].utf8)
    let index = payload.count / 2
    payload[index] = payload[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    parts[1] = String(decoding: payload, as: UTF8.self)
    return parts.joined(separator: ".")
}

func makeCase(
    label: String,
    jwks: String,
    kid: String,
    algorithm: String,
    sign: (RealisticClaims) async throws -> String,
    cryptoVerify: @escaping @Sendable ([UInt8], [UInt8]) -> Bool
) async throws -> Case {
    let now = Date()
    let nonce = randomToken(24)
    let accessToken = randomToken(32)
    let subject = "248289761001-" + randomToken(9)
    let token = try await sign(makeClaims(now: now, nonce: nonce, accessToken: accessToken, subject: subject))

    let keySet = try await KeySet.build(jwks: Array(jwks.utf8), algorithms: KeySet.supportedAlgorithms)
    let expectations = IDTokenExpectations(
        issuer: .exact(issuer), clientID: clientID, nonce: nonce, accessToken: accessToken)

    // jwt-kit's verifier for the same JWK, chosen the way jwt-kit's users would.
    let jwk = try JSONDecoder().decode(JWKS.self, from: Data(jwks.utf8)).keys[0]
    let collection = JWTKeyCollection()
    try await collection.add(jwk: jwk)
    let rawVerifier = try await collection.getKey(for: JWKIdentifier(string: kid), alg: algorithm)

    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    let signingInput = Array(token[token.startIndex..<parts[1].endIndex].utf8)
    let signature = base64URLDecode(parts[2])

    return Case(
        label: label, token: token, tamperedToken: tamper(token), keySet: keySet,
        expectations: expectations, now: now, nonce: nonce, subject: subject,
        rawVerifier: rawVerifier, signature: signature, signingInput: signingInput,
        cryptoVerify: cryptoVerify)
}

func rs256Case() async throws -> Case {
    let privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    let publicKey = privateKey.publicKey
    let jwtPrivateKey = try Insecure.RSA.PrivateKey(backing: privateKey)
    let primitives = try jwtPrivateKey.publicKey.getKeyPrimitives()
    let kid = "rsa-2048-" + randomToken(6)
    let jwks = """
        {"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"\(kid)",\
        "n":"\(base64URL(primitives.modulus))","e":"\(base64URL(primitives.publicExponent))"}]}
        """
    let signer = JWTKeyCollection()
    await signer.add(rsa: jwtPrivateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
    return try await makeCase(
        label: "RS256 (RSA-2048)", jwks: jwks, kid: kid, algorithm: "RS256",
        sign: { try await signer.sign($0, kid: JWKIdentifier(string: kid)) },
        cryptoVerify: { signature, signingInput in
            publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature),
                for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
        })
}

func es256Case() async throws -> Case {
    let privateKey = ES256PrivateKey()
    guard let parameters = privateKey.publicKey.parameters else { fatalError("no EC parameters") }
    let publicKey = try P256.Signing.PublicKey(pemRepresentation: privateKey.publicKey.pemRepresentation)
    let kid = "ec-p256-" + randomToken(6)
    let jwks = """
        {"keys":[{"kty":"EC","use":"sig","alg":"ES256","kid":"\(kid)","crv":"P-256",\
        "x":"\(parameters.x)","y":"\(parameters.y)"}]}
        """
    let signer = JWTKeyCollection()
    await signer.add(ecdsa: privateKey, kid: JWKIdentifier(string: kid))
    return try await makeCase(
        label: "ES256 (P-256)", jwks: jwks, kid: kid, algorithm: "ES256",
        sign: { try await signer.sign($0, kid: JWKIdentifier(string: kid)) },
        cryptoVerify: { signature, signingInput in
            guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return publicKey.isValidSignature(signature, for: SHA256.hash(data: signingInput))
        })
}

// MARK: Sanity checks

/// The benchmark must measure the success path: prove it succeeds, and that a tampered token,
/// a wrong nonce and a wrong access token each fail.
func sanityCheck(_ c: Case) {
    func fail(_ message: String) -> Never {
        print("SANITY CHECK FAILED for \(c.label): \(message)")
        exit(1)
    }
    do {
        let verified = try IDTokenVerifier.verify(c.token, keys: c.keySet, expecting: c.expectations, now: c.now)
        guard verified.claims.subject == c.subject, verified.claims.nonce == c.nonce,
            verified.claims.accessTokenHash != nil, verified.claims.all.count == 15,
            verified.claims.groups?.count == 4
        else { fail("the verified claims are not the minted ones") }
    } catch {
        fail("the genuine token does not verify: \(error)")
    }
    func expectFailure(_ token: String, _ expectations: IDTokenExpectations, code: OAuthError.Code, _ what: String) {
        do {
            _ = try IDTokenVerifier.verify(token, keys: c.keySet, expecting: expectations, now: c.now)
            fail("\(what) verified")
        } catch {
            guard error.code == code else { fail("\(what) failed with \(error.code), expected \(code)") }
        }
    }
    expectFailure(c.tamperedToken, c.expectations, code: .idTokenBadSignature, "a tampered token")
    var wrongNonce = c.expectations
    wrongNonce.nonce = "not-the-nonce"
    expectFailure(c.token, wrongNonce, code: .idTokenNonceMismatch, "a wrong nonce")
    var wrongAccessToken = c.expectations
    wrongAccessToken.accessToken = "not-the-access-token"
    expectFailure(c.token, wrongAccessToken, code: .idTokenAccessTokenHashMismatch, "a wrong access token")

    guard (try? c.rawVerifier.verify(c.signature, signs: c.signingInput)) == true else {
        fail("jwt-kit's raw verify rejects the genuine signature")
    }
    var badInput = c.signingInput
    badInput[badInput.count / 2] ^= 1
    guard (try? c.rawVerifier.verify(c.signature, signs: badInput)) != true else {
        fail("jwt-kit's raw verify accepts a tampered signing input")
    }
    guard c.cryptoVerify(c.signature, c.signingInput), !c.cryptoVerify(c.signature, badInput) else {
        fail("swift-crypto's verify disagrees")
    }
}

// MARK: Measurement

enum Kind: CaseIterable {
    case full, raw, crypto
    var label: String {
        switch self {
        case .full: "full IDTokenVerifier.verify"
        case .raw: "raw jwt-kit JWTAlgorithm.verify"
        case .crypto: "swift-crypto direct (reference)"
        }
    }
}

/// Keeps results alive so the optimiser cannot drop the work.
nonisolated(unsafe) var sink = 0

@inline(never)
func run(_ kind: Kind, _ c: Case, iterations: Int) {
    var accumulator = 0
    switch kind {
    case .full:
        for _ in 0..<iterations {
            do {
                let token = try IDTokenVerifier.verify(c.token, keys: c.keySet, expecting: c.expectations, now: c.now)
                accumulator &+= token.claims.subject.utf8.count
            } catch {
                fatalError("verify failed mid-benchmark: \(error)")
            }
        }
    case .raw:
        for _ in 0..<iterations {
            guard (try? c.rawVerifier.verify(c.signature, signs: c.signingInput)) == true else {
                fatalError("raw verify failed mid-benchmark")
            }
            accumulator &+= 1
        }
    case .crypto:
        for _ in 0..<iterations {
            guard c.cryptoVerify(c.signature, c.signingInput) else { fatalError("swift-crypto verify failed mid-benchmark") }
            accumulator &+= 1
        }
    }
    sink &+= accumulator
}

let clock = ContinuousClock()

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Runs `kind` for about `duration` seconds and returns the iterations per second.
func warmUp(_ kind: Kind, _ c: Case, duration: Double) -> Double {
    var iterations = 1
    var total = 0
    var elapsed = 0.0
    while elapsed < duration {
        elapsed += seconds(clock.measure { run(kind, c, iterations: iterations) })
        total += iterations
        iterations = min(iterations * 2, 1 << 20)
    }
    return Double(total) / elapsed
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

struct Result {
    var opsPerSecond: [Kind: [Double]] = [:]
    var ratios: [Double] = []
}

/// Interleaved rounds: each round times every kind once, with the order rotated from round to
/// round, so frequency or thermal drift lands on all of them alike.
func measure(_ c: Case, options: Options) -> Result {
    var iterations: [Kind: Int] = [:]
    for kind in Kind.allCases {
        let rate = warmUp(kind, c, duration: options.warmupSeconds)
        iterations[kind] = max(1, Int(rate * options.secondsPerRound))
    }
    var result = Result()
    for round in 0..<options.rounds {
        let kinds = Kind.allCases
        let order = (0..<kinds.count).map { kinds[($0 + round) % kinds.count] }
        let rotated = round % 2 == 0 ? order : order.reversed()
        var roundRates: [Kind: Double] = [:]
        for kind in rotated {
            let count = iterations[kind]!
            let elapsed = seconds(clock.measure { run(kind, c, iterations: count) })
            roundRates[kind] = Double(count) / elapsed
        }
        for (kind, rate) in roundRates { result.opsPerSecond[kind, default: []].append(rate) }
        result.ratios.append(roundRates[.full]! / roundRates[.raw]!)
    }
    return result
}

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

func format(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

// MARK: Main

let options = Options(arguments: CommandLine.arguments)
var cases: [Case] = []
do {
    cases = [try await rs256Case(), try await es256Case()]
} catch {
    print("could not build the fixtures: \(error)")
    exit(1)
}
for c in cases { sanityCheck(c) }
if let only = options.only { cases = cases.filter { $0.label.hasPrefix(only) } }

if let profile = options.profile {
    guard let kind = Kind.allCases.first(where: { "\($0)" == profile.kind }) else {
        print("unknown profile kind \(profile.kind)")
        exit(2)
    }
    for c in cases { run(kind, c, iterations: profile.iterations) }
    print("profiled \(profile.iterations) × \(kind) per algorithm")
    exit(0)
}

print("IDTokenBenchmark — single thread, \(options.rounds) interleaved rounds of ~\(options.secondsPerRound) s per row, warm-up \(options.warmupSeconds) s")
print("token sizes: " + cases.map { "\($0.label) \($0.token.utf8.count) bytes" }.joined(separator: ", "))
print("sanity: genuine tokens verify; tampered token, wrong nonce and wrong access token fail with the expected codes")
print()
print(pad("algorithm", 18) + pad("measurement", 34) + pad("median ops/s", 14, right: true)
    + pad("µs/op", 10, right: true) + pad("min–max ops/s", 22, right: true))
print(String(repeating: "-", count: 98))

var allPass = true
var summaries: [String] = []
for c in cases {
    let result = measure(c, options: options)
    var medians: [Kind: Double] = [:]
    for kind in Kind.allCases {
        let rates = result.opsPerSecond[kind]!
        let rate = median(rates)
        medians[kind] = rate
        let spread = "\(format(rates.min()!, 0))–\(format(rates.max()!, 0))"
        print(pad(c.label, 18) + pad(kind.label, 34) + pad(format(rate, 0), 14, right: true)
            + pad(format(1e6 / rate, 2), 10, right: true) + pad(spread, 22, right: true))
    }
    let ratio = medians[.full]! / medians[.raw]!
    let pass = ratio >= options.target
    allPass = allPass && pass
    let overhead = 1e6 / medians[.full]! - 1e6 / medians[.raw]!
    summaries.append(
        "\(pad(c.label, 18))full/raw = \(format(ratio * 100, 1))% "
            + "(per-round median \(format(median(result.ratios) * 100, 1))%, "
            + "range \(format(result.ratios.min()! * 100, 1))–\(format(result.ratios.max()! * 100, 1))%), "
            + "overhead \(format(overhead, 2)) µs/op, jwt-kit/swift-crypto = \(format(medians[.raw]! / medians[.crypto]! * 100, 1))% "
            + "→ \(pass ? "PASS" : "FAIL") (target ≥ \(format(options.target * 100, 0))%)")
}
print()
for summary in summaries { print(summary) }
print(allPass ? "RESULT: PASS" : "RESULT: FAIL")
if sink == 42 { print("") }  // keeps `sink` observable
