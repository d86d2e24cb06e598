//! Logging: pretty for people, JSON for machines; `RUST_LOG` overrides the filter.

use tracing::Subscriber;
use tracing_subscriber::{fmt::MakeWriter, layer::SubscriberExt, EnvFilter, Registry};

pub fn get_subscriber<W>(
    default_filter: &str,
    json: bool,
    sink: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = Registry::default().with(filter);
    if json {
        Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_writer(sink),
            ),
        )
    } else {
        Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .with_writer(sink),
            ),
        )
    }
}

pub fn init_subscriber(subscriber: Box<dyn Subscriber + Send + Sync>) {
    // A second initialisation (tests) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The span of one HTTP request: method, matched route (low cardinality) and request id.
pub fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let client_request_id = req
        .headers()
        .get("x-client-request-id")
        .and_then(|v| v.to_str().ok());
    tracing::info_span!("request", method = %req.method(), route = %route, request_id = %request_id, client_request_id)
}
