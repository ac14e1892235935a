//! Files over plain HTTP: uploads of requirement scans, photos and signatures (multipart forms
//! that work with or without the WASM), downloads of stored files, and the printouts (receipt,
//! rejection slip) as PDF. Every handler checks the session, the role and, for uploads, the
//! CSRF token, exactly as server functions do.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use simpul_app::backend::SessionBackend;
use simpul_app::error::{ApiError, Refusal};
use simpul_domain::attachment::{MAX_ATTACHMENT_BYTES, UploadProblem, check_upload};
use simpul_domain::auth::Permission;

use crate::backend::AppBackend;
use crate::backend::applications::UploadTarget;
use crate::state::AppState;

/// Body limit of an upload request: the largest file plus room for the form around it.
pub const UPLOAD_BODY_BYTES: usize = MAX_ATTACHMENT_BYTES + 64 * 1024;

fn error_code(e: &ApiError) -> String {
    match e {
        ApiError::Refused(Refusal::Upload(code)) => format!("upload_{code}"),
        ApiError::Refused(Refusal::Locked(_)) => "locked".into(),
        ApiError::Refused(Refusal::Missing(code)) => code.clone(),
        ApiError::Refused(Refusal::WrongState(_)) => "wrong_state".into(),
        ApiError::Unauthenticated | ApiError::SessionExpired => "login".into(),
        ApiError::Forbidden => "forbidden".into(),
        ApiError::Csrf => "csrf".into(),
        ApiError::NotFound => "not_found".into(),
        ApiError::DiskFull => "disk_full".into(),
        _ => "internal".into(),
    }
}

pub(crate) fn upload_problem(p: &UploadProblem) -> ApiError {
    let code = match p {
        UploadProblem::Empty => "empty",
        UploadProblem::TooLarge(_) => "too_large",
        UploadProblem::WrongType => "wrong_type",
        UploadProblem::BadName => "bad_name",
    };
    ApiError::Refused(Refusal::Upload(code.into()))
}

/// Reads the form: the CSRF token and one file (name and bytes), bounded.
async fn read_form(mut form: Multipart) -> Result<(String, String, Vec<u8>), ApiError> {
    let (mut csrf, mut file) = (String::new(), None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(upload_problem(&UploadProblem::TooLarge(UPLOAD_BODY_BYTES)));
            }
            Err(_) => return Err(ApiError::BadRequest("the form could not be read".into())),
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|_| ApiError::BadRequest("csrf".into()))?,
            Some("berkas") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = match field.bytes().await {
                    Ok(b) => b,
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(upload_problem(&UploadProblem::TooLarge(UPLOAD_BODY_BYTES)));
                    }
                    Err(_) => return Err(ApiError::BadRequest("the file could not be read".into())),
                };
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let (name, bytes) = file.ok_or_else(|| upload_problem(&UploadProblem::Empty))?;
    Ok((csrf, name, bytes))
}

async fn upload(state: AppState, id: String, target: UploadTarget, req: Request) -> Response {
    let backend = AppBackend::new(state.core.clone());
    let (parts, body) = req.into_parts();
    let back = |query: String| {
        let anchor = match target {
            UploadTarget::Requirement(i) => format!("#syarat-{i}"),
            _ => "#biometrik".into(),
        };
        Redirect::to(&format!("/permohonan/{id}?{query}{anchor}")).into_response()
    };
    let result = async {
        let user = backend.authorize(&parts, Permission::TakeApplications).await?;
        let form = Multipart::from_request(Request::from_parts(parts.clone(), body), &state)
            .await
            .map_err(|_| ApiError::BadRequest("not a multipart form".into()))?;
        let (csrf, name, bytes) = read_form(form).await?;
        backend.check_csrf(&parts, &csrf).await?;
        let checked = check_upload(&name, &bytes).map_err(|p| upload_problem(&p))?;
        backend.app_upload(&user, &id, target, checked, bytes).await
    }
    .await;
    match result {
        Ok(()) => back("unggah=ok".into()),
        Err(ApiError::Unauthenticated | ApiError::SessionExpired) => {
            Redirect::to(&format!("/masuk?next=/permohonan/{id}")).into_response()
        }
        Err(e) => back(format!("galat={}", error_code(&e))),
    }
}

/// `POST /berkas/permohonan/{id}/syarat/{item}`.
pub async fn upload_requirement(
    State(state): State<AppState>,
    Path((id, item)): Path<(String, usize)>,
    req: Request,
) -> Response {
    upload(state, id, UploadTarget::Requirement(item), req).await
}

/// `POST /berkas/permohonan/{id}/biometrik/{kind}` (foto or tanda-tangan).
pub async fn upload_capture(
    State(state): State<AppState>,
    Path((id, kind)): Path<(String, String)>,
    req: Request,
) -> Response {
    let target = match kind.as_str() {
        "foto" => UploadTarget::Photo,
        "tanda-tangan" => UploadTarget::Signature,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    upload(state, id, target, req).await
}

fn refusal(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, e.to_string()).into_response()
}

async fn caller(backend: &AppBackend, parts: &Parts) -> Result<simpul_app::wire::UserView, ApiError> {
    backend.authorize(parts, Permission::ViewApplications).await
}

/// `GET /berkas/{sha256}`: a stored file, for staff who may see applications.
pub async fn download(State(state): State<AppState>, Path(sha): Path<String>, req: Request) -> Response {
    let backend = AppBackend::new(state.core.clone());
    let (parts, _) = req.into_parts();
    let user = match caller(&backend, &parts).await {
        Ok(user) => user,
        Err(e) => return refusal(e),
    };
    match backend.blob(&user, &sha).await {
        Ok((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type.mime())),
                // Scans of ID cards and biometric records are personal data: no copy is kept in
                // the counter PC's browser cache, where the next user of the PC could find it.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                // A biometric record is saved, not shown: no browser displays one.
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static(if content_type.uploadable() {
                        "inline"
                    } else {
                        "attachment; filename=\"rekaman-biometrik.iso\""
                    }),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => refusal(e),
    }
}

async fn printout(state: AppState, id: String, receipt: bool, req: Request) -> Response {
    let backend = AppBackend::new(state.core.clone());
    let (parts, _) = req.into_parts();
    let user = match caller(&backend, &parts).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    match backend.printout(&user, &id, receipt).await {
        Ok((name, bytes)) => {
            let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("inline"));
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => refusal(e),
    }
}

/// `GET /dokumen/permohonan/{id}/tanda-terima.pdf`.
pub async fn receipt(State(state): State<AppState>, Path(id): Path<String>, req: Request) -> Response {
    printout(state, id, true, req).await
}

/// `GET /dokumen/permohonan/{id}/pengembalian.pdf`.
pub async fn return_slip(State(state): State<AppState>, Path(id): Path<String>, req: Request) -> Response {
    printout(state, id, false, req).await
}
