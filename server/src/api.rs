//! HTTP handlers. Each one parses, authorises and delegates to a domain function; the routes
//! and the OpenAPI document come from the same annotations, so the document cannot drift.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::gbds::{TokenRequest, TokenResponse};
use wire::spid::{
    ExternalResult, OperatorEnrollPayload, OperatorInsert, OperatorListItem, Person, ServiceState, SystemStatus,
    TransactionData, UserTransaction,
};
use wire::search::MatchResult;
use wire::{Envelope, ErrorCode, ErrorResponse};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, SpidJson};
use crate::{enrollment, matching, operators, people, verify, AppState};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Capture Station server (SPID 4.2.12 dialect)",
        description = "Griaule SPID-compatible enrollment API with GBDS token login. Error bodies carry a stable `code`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "Enrollment"), (name = "Search", description = "Verify (1:1) against an enrolled person"), (name = "Deletion"), (name = "Operator"), (name = "Transaction"),
        (name = "Status"), (name = "Tokens"),
        (name = "Remote", description = "Remote capture: phone link, phone page and frames, admin approval")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// All API routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(issue_token))
        .routes(routes!(enroll))
        .routes(routes!(enroll_result))
        .routes(routes!(get_person))
        .routes(routes!(verify_person))
        .routes(routes!(verify_result))
        .routes(routes!(delete_result, delete_person))
        .routes(routes!(delete_person_with_motive))
        .routes(routes!(transaction_data))
        .routes(routes!(operator_list))
        .routes(routes!(operator_get, operator_delete))
        .routes(routes!(operator_insert))
        .routes(routes!(status))
        .merge(crate::remote::routes())
}

/// Log in (user/password) or renew a token.
#[utoipa::path(post, path = "/gbds/v2/tokens", tag = "Tokens",
    request_body = Envelope<TokenRequest>,
    responses(
        (status = 201, body = Envelope<TokenResponse>),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 422, body = ErrorResponse)
    ))]
async fn issue_token(State(state): State<AppState>, body: SpidJson<Envelope<TokenRequest>>) -> ApiResult<Response> {
    let token = crate::auth::issue_token(&state.db, &body.value.data, state.config.token_ttl).await?;
    Ok((StatusCode::CREATED, Json(Envelope::new(token))).into_response())
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(wire::IDEMPOTENCY_KEY_HEADER) else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| ApiError::new(ErrorCode::IdempotencyKey, "Idempotency-Key must be 1-128 visible ASCII characters"))?;
    Ok(Some(key.to_owned()))
}

/// Enroll a person. Send `Idempotency-Key` so a retry never creates a second transaction.
#[utoipa::path(post, path = "/gbs-spid-server/people", tag = "Enrollment",
    request_body = Envelope<UserTransaction>,
    params(("Idempotency-Key" = Option<String>, Header, description = "client transaction key; a replay returns the original result")),
    responses(
        (status = 201, body = ExternalResult, description = "accepted (ENROLL_ENQUEUED); Location points at the result"),
        (status = 200, body = ExternalResult, description = "replay of an earlier request with the same Idempotency-Key"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 409, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse)
    ),
    security(("bearer" = [])))]
async fn enroll(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: SpidJson<Envelope<UserTransaction>>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let submission = enrollment::submit(&state, &caller, body.value.data, key.as_deref(), &body.body_sha256).await?;
    let location = format!("{}/people/transactions/{}", wire::SPID_PREFIX, submission.result.id);
    let status = if submission.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, [(header::LOCATION, location)], Json(submission.result)).into_response())
}

/// Result of an enrollment. A biometric duplicate (`ENROLL_REJECTED`) carries the enrolled
/// person it matched under `candidates`, with the per-finger scores.
#[utoipa::path(get, path = "/gbs-spid-server/people/transactions/{id}", tag = "Enrollment",
    params(("id" = String, Path, description = "transaction GUID")),
    responses((status = 200, body = MatchResult), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn enroll_result(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> ApiResult<Json<MatchResult>> {
    Ok(Json(matching::with_match_details(&state.db, enrollment::result(&state.db, &id).await?).await?))
}

/// Verify (1:1) the fingers in the body against the enrolled person named by `userId`. Runs
/// within the request: the answer already carries the final status (`SEARCH_MATCH`,
/// `SEARCH_NOT_MATCH`, or `SEARCH_FAILED` when the person is not found or no finger could be
/// compared) and the scores.
#[utoipa::path(post, path = "/gbs-spid-server/verify", tag = "Search",
    request_body = Envelope<UserTransaction>,
    responses(
        (status = 200, body = MatchResult),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse)
    ),
    security(("bearer" = [])))]
async fn verify_person(State(state): State<AppState>, caller: Caller, body: SpidJson<Envelope<UserTransaction>>) -> ApiResult<Json<MatchResult>> {
    Ok(Json(verify::verify(&state, &caller, body.value.data).await?))
}

/// Result of a verify, with the scores and the fingers compared.
#[utoipa::path(get, path = "/gbs-spid-server/verify/{tguid}", tag = "Search",
    params(("tguid" = String, Path, description = "verify transaction GUID")),
    responses((status = 200, body = MatchResult), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn verify_result(State(state): State<AppState>, _caller: Caller, Path(tguid): Path<String>) -> ApiResult<Json<MatchResult>> {
    Ok(Json(verify::result(&state.db, &tguid).await?))
}

/// An enrolled person by key (userId / CPF).
#[utoipa::path(get, path = "/gbs-spid-server/people/{key}", tag = "Enrollment",
    params(("key" = String, Path, description = "search key (userId / CPF)")),
    responses((status = 200, body = Person), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn get_person(State(state): State<AppState>, _caller: Caller, Path(key): Path<String>) -> ApiResult<Json<Person>> {
    Ok(Json(people::get_person(&state.db, &key).await?))
}

/// Delete a person (admins only). The path segment is the person's key (CPF).
#[utoipa::path(delete, path = "/gbs-spid-server/delete/{id}", tag = "Deletion",
    params(("id" = String, Path, description = "the person's key (CPF)")),
    responses((status = 200, body = ExternalResult), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn delete_person(State(state): State<AppState>, caller: Caller, Path(cpf): Path<String>) -> ApiResult<Json<ExternalResult>> {
    caller.require_admin()?;
    Ok(Json(people::delete_person(&state, &caller, &cpf, None).await?))
}

/// Delete a person with a motive: `E` (error) or `F` (fraud). Admins only.
#[utoipa::path(delete, path = "/gbs-spid-server/delete/{cpf}/{mot}", tag = "Deletion",
    params(("cpf" = String, Path), ("mot" = String, Path, description = "E (error) or F (fraud)")),
    responses((status = 200, body = ExternalResult), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn delete_person_with_motive(
    State(state): State<AppState>,
    caller: Caller,
    Path((cpf, mot)): Path<(String, String)>,
) -> ApiResult<Json<ExternalResult>> {
    caller.require_admin()?;
    let motive = people::DeletionMotive::parse(&mot)?;
    Ok(Json(people::delete_person(&state, &caller, &cpf, Some(motive)).await?))
}

/// Result of a deletion.
#[utoipa::path(get, path = "/gbs-spid-server/delete/{id}", tag = "Deletion",
    params(("id" = String, Path, description = "deletion transaction GUID")),
    responses((status = 200, body = ExternalResult), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn delete_result(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> ApiResult<Json<ExternalResult>> {
    Ok(Json(people::delete_result(&state.db, &id).await?))
}

/// A transaction with its biometrics.
#[utoipa::path(get, path = "/gbs-spid-server/transaction/biometrics/{tguid}", tag = "Transaction",
    params(("tguid" = String, Path)),
    responses((status = 200, body = TransactionData), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn transaction_data(State(state): State<AppState>, _caller: Caller, Path(tguid): Path<String>) -> ApiResult<Json<TransactionData>> {
    Ok(Json(people::transaction_data(&state.db, &tguid).await?))
}

/// All operators (admins only).
#[utoipa::path(get, path = "/gbs-spid-server/operator/list", tag = "Operator",
    responses((status = 200, body = Vec<OperatorListItem>), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn operator_list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<OperatorListItem>>> {
    caller.require_admin()?;
    Ok(Json(operators::list(&state.db).await?))
}

/// One operator (an operator may read their own record; admins any).
#[utoipa::path(get, path = "/gbs-spid-server/operator/{key}", tag = "Operator",
    params(("key" = String, Path, description = "operator document")),
    responses((status = 200, body = OperatorEnrollPayload), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn operator_get(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Json<OperatorEnrollPayload>> {
    if caller.document != key {
        caller.require_admin()?;
    }
    Ok(Json(operators::get(&state.db, &key).await?))
}

/// Delete an operator (admins only); their tokens stop working at once.
#[utoipa::path(delete, path = "/gbs-spid-server/operator/{key}", tag = "Operator",
    params(("key" = String, Path, description = "operator document")),
    responses((status = 202, description = "deleted"), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn operator_delete(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    operators::delete(&state.db, &key).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Add an operator (admins only). `password` and `role` are our extension so the operator can log in.
#[utoipa::path(post, path = "/gbs-spid-server/operator", tag = "Operator",
    request_body = Envelope<OperatorInsert>,
    responses((status = 201, description = "created"), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn operator_insert(State(state): State<AppState>, caller: Caller, body: SpidJson<Envelope<OperatorInsert>>) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    operators::insert(&state.db, &body.value.data).await?;
    Ok(StatusCode::CREATED)
}

/// Service status; needs no token so monitors and stations can probe it.
#[utoipa::path(get, path = "/gbs-spid-server/status", tag = "Status",
    responses((status = 200, body = Envelope<SystemStatus>), (status = 503, body = ErrorResponse)))]
async fn status(State(state): State<AppState>) -> ApiResult<Json<Envelope<SystemStatus>>> {
    sqlx::query("SELECT 1").execute(&state.db).await?;
    Ok(Json(Envelope::new(SystemStatus {
        psbio_status: ServiceState::Inactive,
        spidx_status: ServiceState::Inactive,
        gbds_status: ServiceState::Active,
        idn_status: ServiceState::Inactive,
    })))
}
