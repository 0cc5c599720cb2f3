import Hummingbird

extension HTTPFields.Element.Name {
    // Valid field names, so the initialiser cannot fail.
    static let pragma = Self("Pragma")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
