import Hummingbird

/// Which provider `/oauth2/start` sends the browser to: the one its `provider` parameter names
/// (when allowed for the return path), the only one allowed, or — with several — the chooser.
enum ProviderChoice {
    case provider(LoginProvider)
    /// Several providers are allowed and none was named: show the chooser.
    case chooser([LoginProvider])
    /// `400`: an unknown provider, or one the return path does not allow.
    case refused(Page)

    /// The choice for a start naming `requested` (or none) for `returnPath`.
    static func make(
        requested: String?, returnPath: String, requirements: LoginRequirements, auth: AuthService
    ) -> ProviderChoice {
        let allowed = requirements.providers.map { ids in auth.providers.filter { ids.contains($0.id) } } ?? auth.providers
        /// `400` with a link back to the choice (with `choice`) for this return path.
        func refused(_ title: String, _ message: String, _ category: String, choice: Bool = true) -> ProviderChoice {
            .refused(
                Page(
                    status: .badRequest, title: title, message: message, category: category,
                    link: choice ? (href: LoginChallenge.startPath(returnPath: returnPath), text: "Choose how to sign in") : nil))
        }
        if let requested {
            guard let provider = auth.provider(id: requested) else {
                return refused(
                    "Unknown sign-in provider", "This sign-in link names a provider this application does not know.",
                    "unknown_provider")
            }
            guard allowed.contains(where: { $0.id == provider.id }) else {
                return refused(
                    "Provider not allowed here", "The page you asked for does not accept sign-in with \(provider.name).",
                    "provider_not_allowed")
            }
            return .provider(provider)
        }
        switch allowed.count {
        case 1: return .provider(allowed[0])
        case 0:
            return refused(
                "No sign-in provider", "The page you asked for accepts no sign-in provider this application has.",
                "no_provider", choice: false)
        default: return .chooser(allowed)
        }
    }

    /// The chooser: one link per provider to `/oauth2/start?provider=ID&rd=…` (no script,
    /// the pages' CSP), `prompt` kept.
    static func chooserPage(_ providers: [LoginProvider], returnPath: String, prompt: String?) -> Page {
        var page = Page(status: .ok, title: "Sign in", message: "Choose how to sign in.")
        var html = "<style>.providers{list-style:none;padding:0}.providers a{display:block;margin:.6rem 0;"
        html += "padding:.8rem 1rem;border:1px solid #767676;border-radius:.4rem;text-decoration:none;color:#0b3d91}"
        html += ".providers a:focus,.providers a:hover{outline:3px solid #0b3d91;outline-offset:2px}</style>"
        html += "<ul class=\"providers\">"
        for provider in providers {
            let href = LoginChallenge.startPath(returnPath: returnPath, provider: provider.id, prompt: prompt)
            html += "<li><a href=\"\(Page.escape(href))\">Sign in with \(Page.escape(provider.name))</a></li>"
        }
        html += "</ul>"
        page.extraHTML = html
        return page
    }
}
