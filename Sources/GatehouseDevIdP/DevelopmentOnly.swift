/// The development identity provider is for development and tests only.
public enum DevelopmentOnly {
    /// Printed at start-up and shown on every page.
    public static let banner = "Gatehouse development identity provider: FOR DEVELOPMENT ONLY. Never use it in production."
}
