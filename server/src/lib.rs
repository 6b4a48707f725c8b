//! `server`: the SPID-compatible enrollment server.
//!
//! It runs embedded in the station (one binary, SQLite file in the station's data dir) or as a
//! standalone service, on SQLite or on a shared PostgreSQL database ([`db`]). Handlers in [`api`]
//! are thin: they parse and authorise, then call domain functions in [`enrollment`], [`people`],
//! [`operators`], [`verify`] and [`auth`], which own the SQL (one copy for both databases). Fingerprint templates ([`templates`]), the 1:N gallery ([`gallery`]), 1:1 scoring
//! ([`matching`]) and deduplication in the enrollment worker ([`dedup`]) use the `fingerprint`
//! engine on the blocking pool.
//! Only `wire` knows the JSON shapes; this crate knows no devices and no station queue.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod dedup;
pub mod enrollment;
pub mod error;
pub mod extract;
pub mod gallery;
pub mod images;
pub mod matching;
pub mod operators;
pub mod people;
pub mod remote;
pub mod templates;
pub mod verify;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use sqlx::AnyPool;
use tokio::sync::Notify;
use wire::ErrorCode;

pub use config::{BootstrapAdmin, FingerprintConfig, ServerConfig};
pub use db::DatabaseLocation;
pub use error::ApiError;

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// SQLite or PostgreSQL ([`db`]); every query is written for both.
    pub db: AnyPool,
    pub config: Arc<ServerConfig>,
    /// Wakes the enrollment worker when a transaction is accepted.
    pub enrollment_work: Arc<Notify>,
    /// Inbox of the group-commit writer that stores accepted enrollments.
    pub enrollment_writer: tokio::sync::mpsc::Sender<enrollment::PendingWrite>,
    /// Remote capture: the lazily loaded face pipeline and the live phone sessions.
    pub remote: Arc<remote::RemoteState>,
    /// Every enrolled person's fingers, for deduplication (loaded by the enrollment worker).
    pub gallery: Arc<gallery::PeopleGallery>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] db::OpenError),
    #[error("cannot create bootstrap admin: {0}")]
    Bootstrap(ApiError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Builds the state and the complete router (API, `/openapi.json`, JSON fallbacks).
pub async fn build(config: ServerConfig) -> Result<(Router, AppState), StartError> {
    let db = db::open(&config.database).await?;
    if let Some(admin) = &config.bootstrap_admin {
        auth::ensure_bootstrap_admin(&db, admin).await.map_err(StartError::Bootstrap)?;
    }
    let enrollment_work = Arc::new(Notify::new());
    let (enrollment_writer, inbox) = tokio::sync::mpsc::channel(256);
    tokio::spawn(enrollment::run_writer(db.clone(), enrollment_work.clone(), inbox));
    let gallery = Arc::new(gallery::PeopleGallery::new(config.fingerprint.min_minutiae));
    let state =
        AppState { db, config: Arc::new(config), enrollment_work, enrollment_writer, remote: Arc::default(), gallery };
    Ok((router(state.clone()), state))
}

/// The router for `state`, with the OpenAPI document served at `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi_json = Arc::new(openapi.to_pretty_json().unwrap_or_default());
    api_router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = openapi_json.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], doc.as_ref().clone()) }
            }),
        )
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::new(ErrorCode::RouteNotFound, format!("no route for {uri}"))
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed on this path")
        })
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document of every API route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().split_for_parts().1
}

/// A server running on a background task; dropping it does not stop it, [`shutdown`] does.
///
/// [`shutdown`]: RunningServer::shutdown
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Base URL, e.g. `http://127.0.0.1:8082`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, finishes in-flight requests and waits for the task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts the server on `addr` (port 0 picks a free port) with the enrollment worker.
pub async fn spawn(config: ServerConfig, addr: SocketAddr) -> Result<RunningServer, StartError> {
    let (app, state) = build(config).await?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener.local_addr()?;
    let worker = tokio::spawn(enrollment::run_worker(state.clone()));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = result.await {
            tracing::error!(error = %e, "server stopped with an error");
        }
        worker.abort();
    });
    Ok(RunningServer { addr, state, shutdown: Some(tx), task })
}

