import Metrics

/// Counters of the login flow, through swift-metrics (Prometheus in the gateway):
/// `gatehouse_logins_total{result=…}`, `gatehouse_sign_outs_total`,
/// `gatehouse_backchannel_logouts_total{result=…}` and `gatehouse_frontchannel_logouts_total{result=…}`.
enum AuthMetrics {
    enum LoginResult: String {
        case started
        case succeeded
        case failed
        case denied
        case unknownState = "unknown_state"
        case bindingMismatch = "binding_mismatch"
        /// Refused by a cap on logins in flight (`429`).
        case tooManyPending = "too_many_pending"
        /// A browser's oldest login given up to make room for a new one.
        case givenUp = "given_up"
        case redirectLoop = "redirect_loop"
        case idpUnavailable = "idp_unavailable"
    }

    static func login(_ result: LoginResult) {
        Counter(label: "gatehouse_logins_total", dimensions: [("result", result.rawValue)]).increment()
    }

    /// `gatehouse_backchannel_logouts_total{result=succeeded|refused|store_unavailable}`.
    static func backchannelLogout(_ result: String) {
        Counter(label: "gatehouse_backchannel_logouts_total", dimensions: [("result", result)]).increment()
    }

    /// `gatehouse_frontchannel_logouts_total{result=succeeded|refused|store_unavailable}`.
    static func frontchannelLogout(_ result: String) {
        Counter(label: "gatehouse_frontchannel_logouts_total", dimensions: [("result", result)]).increment()
    }

    static func signOut() {
        Counter(label: "gatehouse_sign_outs_total").increment()
    }
}
