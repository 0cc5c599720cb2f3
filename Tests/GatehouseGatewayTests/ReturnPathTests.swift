import GatehouseHummingbird
import Testing

/// Open-redirect attempts on the `rd` return path: every one must end on `/`.
@Suite("Return paths")
struct ReturnPathTests {
    static let attacks: [String] = [
        "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
        "https://evil.example", "http://evil.example/", "https:evil.example", "javascript:alert(1)",
        "data:text/html,hi", "evil.example", "//evil.example/%2F..", "/%2F%2Fevil.example", "/%2f%2fevil.example",
        "/%5Cevil.example", "/%5cevil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
        "/%09/evil.example", "/%0A/evil.example", "/%0d%0a/evil.example", " /evil", "/ /evil",
        "／／evil.example", "/\u{2215}\u{2215}evil.example", "/\u{FF0F}evil.example", "/%E2%88%95evil", "/%252F%252Fevil.example",
        "//evil.example@good.example", "http://good.example.evil.example/", "//good.example.evil.example",
        "/#//evil.example", "/%00//evil.example", "/path%", "/path%4", "/path%zz", "", "?next=//evil",
        "/" + String(repeating: "a", count: 3000),
    ]

    @Test(arguments: attacks)
    func attackEndsOnRoot(_ attack: String) {
        #expect(ReturnPath.sanitize(attack) == "/", "\(attack)")
    }

    @Test func nilIsRoot() {
        #expect(ReturnPath.sanitize(nil) == "/")
    }

    static let legitimate = ["/", "/app", "/app/page?x=1&y=two", "/a/b/c.html", "/search?q=hello%20world", "/x?y=%C3%A9", "/@me"]

    @Test(arguments: legitimate)
    func plainPathsSurvive(_ path: String) {
        #expect(ReturnPath.sanitize(path) == path)
    }
}
