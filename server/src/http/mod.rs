//! HTTP: the router (UI pages, server functions, assets, health), its middleware and the
//! function that serves it on a bound listener.

pub mod assets;
pub mod files;
pub mod preview;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use simpul_app::backend::SharedBackend;
use simpul_app::{RouteTable, SESSION_COOKIE, shell};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_rusqlite_store::RusqliteStore;

use crate::backend::AppBackend;
use crate::backend::session::SessionMarker;
use crate::office::auth;
use crate::state::AppState;

/// Largest request body accepted (server-function arguments are small; uploads come later with
/// their own limits).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the whole application router.
pub fn router(state: AppState, store: RusqliteStore) -> Router {
    let backend: SharedBackend = Arc::new(AppBackend::new(state.core.clone()));
    let context = move || provide_context(backend.clone());
    let options = state.leptos.clone();
    // The routes alone: see `RouteTable`.
    let routes = generate_route_list(RouteTable);

    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.core.config.session.secure_cookie)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::minutes(
            state.core.config.session.idle_minutes as i64,
        )));

    let ui = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .route("/berkas/{sha}", get(files::download))
        .route(&format!("{}/{{modality}}", simpul_app::api::BOX_PREVIEW_PATH), get(preview::preview))
        .route("/dokumen/permohonan/{id}/tanda-terima.pdf", get(files::receipt))
        .route("/dokumen/permohonan/{id}/pengembalian.pdf", get(files::return_slip))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(server_fn_status))
        .layer(middleware::from_fn(prepare_session))
        .layer(sessions.clone())
        .with_state(state.clone());

    // Uploads have their own, larger limit; everything else keeps the small one.
    let uploads = Router::new()
        .route("/berkas/permohonan/{id}/syarat/{item}", post(files::upload_requirement))
        .route("/berkas/permohonan/{id}/biometrik/{kind}", post(files::upload_capture))
        // Enforced while the form is read, so that a file too large gets the same answer as any
        // other refused file (a redirect with its reason), not a bare 413.
        .layer(DefaultBodyLimit::max(files::UPLOAD_BODY_BYTES))
        .layer(middleware::from_fn(prepare_session))
        .layer(sessions)
        .with_state(state.clone());

    Router::new()
        .route("/healthz", get(health))
        .route("/api/layar/stream", get(display_stream))
        .route("/pkg/{*path}", get(assets::serve))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(state)
        .merge(uploads)
        .merge(ui)
        .layer(middleware::from_fn(refuse_cross_site))
        // Not the live preview: a compressor holds frames back until it has enough to emit.
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(NotForContentType::const_new("multipart/x-mixed-replace"))),
        )
        .layer(CatchPanicLayer::custom(panicked))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // The matched route, never the raw path or query: those can carry personal data.
            let route = req.extensions().get::<MatchedPath>().map_or("(unmatched)", |m| m.as_str()).to_string();
            tracing::info_span!("http", method = %req.method(), route)
        }))
}

/// A handler that panicked answers 500 with a plain page instead of a dropped connection. The
/// panic's message is not logged: it can carry whatever data the handler held.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Terjadi kesalahan di server; coba lagi. (Server error; please try again.)",
    )
        .into_response()
}

/// Renders the app for an address no route matched: the router shows "not found" (404).
async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    let backend: SharedBackend = Arc::new(AppBackend::new(state.core.clone()));
    let options = state.leptos.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(backend.clone()),
        move || shell(options.clone()),
    );
    handler(req).await.into_response()
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: String,
}

/// `/api/layar/stream`: the waiting-room display's live feed (server-sent events). Sends the
/// state at once and again after every queue change; browsers reconnect by themselves.
async fn display_stream(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<TokenQuery>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let backend = AppBackend::new(state.core.clone());
    if backend.device(simpul_store::tokens::Purpose::Display, &q.token).await.is_err() {
        return (StatusCode::FORBIDDEN, "unknown display token").into_response();
    }
    let changes = state.core.queue_changed.subscribe();
    let stopping = state.core.stopping.subscribe();
    let stream = futures::stream::unfold(
        (changes, stopping, backend, true),
        |(mut changes, mut stopping, backend, first)| async move {
            if *stopping.borrow() {
                return None;
            }
            if !first {
                tokio::select! {
                    changed = changes.changed() => changed.ok()?,
                    _ = stopping.changed() => return None,
                }
            }
            let event = match backend.display_state().await {
                Ok(view) => Event::default().event("antrian").json_data(&view).unwrap_or_default(),
                Err(_) => Event::default().event("galat").data("display state unavailable"),
            };
            Some((Ok::<_, std::convert::Infallible>(event), (changes, stopping, backend, false)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// `/healthz`: what this box is, for its peers and for monitoring.
async fn health(State(state): State<AppState>) -> Response {
    let db_ok = state.core.db.call(|c| Ok(simpul_store::db::answers(c))).await.unwrap_or(false);
    let body = serde_json::json!({
        "service": "simpul",
        "role": state.core.config.role.code(),
        "version": env!("CARGO_PKG_VERSION"),
        "database": if db_ok { "ok" } else { "error" },
    });
    let status = if db_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Gives every UI request a session with a CSRF token before the page renders (so the cookie is
/// set on the response), and notes when the browser presented a session that no longer exists.
async fn prepare_session(mut req: Request, next: Next) -> Response {
    if let Some(session) = req.extensions().get::<Session>().cloned() {
        let had_cookie = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(';').any(|c| c.trim_start().starts_with(&format!("{SESSION_COOKIE}="))));
        let had_token = matches!(session.get::<String>(auth::CSRF_KEY).await, Ok(Some(_)));
        if !had_token && let Err(e) = auth::csrf_token(&session).await {
            tracing::error!(error = %e, "cannot start a session");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        req.extensions_mut().insert(SessionMarker { expired: had_cookie && !had_token });
    }
    next.run(req).await
}

/// Gives server-function failures that happen before the function runs (arguments that do not
/// decode) the status their error stands for, instead of the framework's blanket 500.
async fn server_fn_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<simpul_app::error::ApiError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Refuses state-changing requests that a browser marks as coming from another site. The CSRF
/// token is the main defence; this is the second.
async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let headers = req.headers();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let origin_host = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .filter(|o| *o != "null")
            .map(|o| o.split_once("://").map_or(o, |(_, rest)| rest).trim_end_matches('/'));
        let cross_origin = origin_host.is_some_and(|o| !o.eq_ignore_ascii_case(host))
            || headers.get(header::ORIGIN).is_some_and(|o| o == "null");
        let cross_site = headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site");
        if cross_origin || cross_site {
            tracing::warn!("refused a cross-site request");
            return (StatusCode::FORBIDDEN, "Permintaan lintas situs ditolak / cross-site request refused")
                .into_response();
        }
    }
    next.run(req).await
}

/// Serves the router on a bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
