use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// The process is up and serving HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready for commands: configured, started, not shutting down, and, when
/// commands come over Socket Mode only, connected to Slack (so a rolling
/// update waits for the new pod's connection). It does not probe GREEN-API:
/// an upstream outage should not take every replica out of the load
/// balancer, since users get a clear message either way.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.is_ready() {
        HttpResponse::Ok().content_type("text/plain").body("ready\n")
    } else if state.is_waiting_for_slack() {
        HttpResponse::ServiceUnavailable().content_type("text/plain").body("not connected to Slack\n")
    } else {
        HttpResponse::ServiceUnavailable().content_type("text/plain").body("shutting down\n")
    }
}
