//! The HTTP surface.

mod health;
mod metrics;
mod slack_commands;
mod slack_interactions;
mod slack_request;

pub use health::{healthz, readyz};
pub use metrics::metrics;
pub use slack_commands::slack_commands;
pub use slack_interactions::slack_interactions;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::guard::{Guard, GuardContext};
use actix_web::http::header::ALLOW;
use actix_web::http::{ConnectionType, Method};
use actix_web::{HttpResponse, Resource, web};

use crate::state::AppState;

/// Registers every route but `/metrics`; shared by the server and
/// in-process tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .service(slack_route("/slack/commands").route(web::route().guard(Post).to(slack_commands)))
        .service(slack_route("/slack/interactions").route(web::route().guard(Post).to(slack_interactions)));
}

/// A route Slack posts to, which answers any other method with 405 and
/// `Allow: POST`, as actix's `web::post()` would.
fn slack_route(path: &str) -> Resource {
    web::resource(path)
        .default_service(web::to(|| async { HttpResponse::MethodNotAllowed().insert_header((ALLOW, "POST")).finish() }))
}

/// `POST` alone. actix's own method guard records the methods it allows in
/// every request's extensions, for a 405 to list (three allocations per
/// request, on the routes every command takes); [`slack_route`] lists them
/// itself.
struct Post;

impl Guard for Post {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        ctx.head().method == Method::POST
    }
}

/// `/metrics`: on the main listener, or alone on METRICS_PORT.
pub fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

/// Middleware (`App::wrap_fn`): while the server is stopping, every answer
/// ends its connection, so a kept-alive connection (a load balancer's) goes
/// after its current request and the next one goes to a new connection,
/// which the stopping server refuses and the balancer sends elsewhere.
pub fn close_when_stopping<S, B>(
    request: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
{
    let response = service.call(request);
    async move {
        let mut response = response.await?;
        if response.request().app_data::<web::Data<AppState>>().is_some_and(|state| state.is_stopping()) {
            response.response_mut().head_mut().set_connection_type(ConnectionType::Close);
        }
        Ok(response)
    }
}
