//! The capture station desktop app: a Tauri v2 window over the `station`, `server`, `drivers`
//! and `face` crates. Each command translates between the window and one library call; the
//! rules (validation, capture, queue, sync, settings) live in those crates
//! (`station::app_support` for what only the app needs).

mod dto;
mod preview;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dto::*;
use preview::PreviewFrames;
use drivers::simulated::{Motion, ScanTiming};
use station::app_remote::RemoteAdmin;
use station::app_face::{self, AnalysisView, FaceStepConfig, FaceStepOutcome};
use station::app_verify;
use station::app_support::{self, AppSettings, EnrollmentDraft, SimulatedFingers};
use station::sync::{Credentials, SpidClient, Syncer};
use station::{Station, StationConfig};
use tauri::ipc::Channel;
use tauri::{Emitter, Manager};
use wire::spid::{OperatorRole, RemoteCaptureStatus};
use wire::BiometricIndex;

type CmdResult<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// How the app was started.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// `--kiosk` (or `STATION_KIOSK=1`): full screen self-service mode.
    pub kiosk: bool,
    /// `--config PATH` (or `STATION_CONFIG`).
    pub config: Option<PathBuf>,
}

impl Launch {
    /// Reads the command line and environment.
    pub fn from_env() -> Result<Self, String> {
        let mut launch = Launch {
            kiosk: std::env::var("STATION_KIOSK").is_ok_and(|v| v == "1" || v == "true"),
            config: std::env::var_os("STATION_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from),
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--kiosk" => launch.kiosk = true,
                "--config" => launch.config = Some(args.next().ok_or("--config needs a path")?.into()),
                "--help" | "-h" => {
                    return Err("usage: capture-station-app [--kiosk] [--config station.toml]\n\
                                env: STATION_* (see README), CAPTURE_ADMIN_PASSWORD (first admin of the embedded server),\n\
                                STATION_KIOSK_PIN (admin PIN that leaves kiosk mode)"
                        .into())
                }
                // Launchers (WebKitWebDriver, desktop files) may add arguments of their own.
                other => eprintln!("capture-station-app: ignoring argument {other:?} (try --help)"),
            }
        }
        Ok(launch)
    }
}

fn default_config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".config"));
    base.join("capture-station/station.toml")
}

/// What can change while the app runs.
struct Live {
    station: Station,
    settings: AppSettings,
    server: Option<server::RunningServer>,
    server_error: Option<String>,
    signed_in: Option<String>,
    /// The signed-in user's server session and role (admin screens follow the role).
    session: Option<Arc<SpidClient>>,
    role: Option<OperatorRole>,
    draft: Option<EnrollmentDraft>,
    fingers: Option<SimulatedFingers>,
    last_sync: Option<SyncDto>,
}

/// The app's state, shared by every command.
pub struct Shell {
    launch: Launch,
    started: Instant,
    ready_ms: std::sync::Mutex<Option<u32>>,
    /// The server URL as the station configuration (file + env) gives it.
    configured_url: String,
    env_url: bool,
    queue: station::Queue,
    live: tokio::sync::Mutex<Live>,
    face_stop: Arc<AtomicBool>,
    face_running: Arc<AtomicBool>,
    /// The current face stream's previews, served over the `preview:` URI scheme.
    previews: Arc<PreviewFrames>,
    /// Number of the latest face stream (previews of an earlier one are not served).
    face_streams: AtomicU64,
    pipeline: Arc<std::sync::Mutex<Option<face::FacePipeline>>>,
    syncing: tokio::sync::Mutex<()>,
}

impl Shell {
    /// Opens the station and, when configured, starts the embedded server.
    pub async fn open(launch: Launch, started: Instant) -> Result<Self, String> {
        let path = launch.config.clone().unwrap_or_else(default_config_path);
        let config = StationConfig::load(Some(&path)).map_err(err)?;
        let configured_url = config.server_url.clone();
        let settings = AppSettings::load(&config.data_dir)?;
        let mut station = Station::open(config).await.map_err(err)?;
        let env_url = std::env::var_os("STATION_SERVER_URL").is_some();
        if let (Some(url), false) = (&settings.server_url, env_url) {
            station.config.server_url = url.clone();
        }
        let queue = station.queue.clone();
        let mut live = Live {
            station,
            settings,
            server: None,
            server_error: None,
            signed_in: None,
            session: None,
            role: None,
            draft: None,
            fingers: None,
            last_sync: None,
        };
        start_embedded(&mut live).await;
        Ok(Self {
            launch,
            started,
            ready_ms: std::sync::Mutex::new(None),
            configured_url,
            env_url,
            queue,
            live: tokio::sync::Mutex::new(live),
            face_stop: Arc::new(AtomicBool::new(false)),
            face_running: Arc::new(AtomicBool::new(false)),
            previews: Arc::new(PreviewFrames::default()),
            face_streams: AtomicU64::new(0),
            pipeline: Arc::new(std::sync::Mutex::new(None)),
            syncing: tokio::sync::Mutex::new(()),
        })
    }

    fn info(&self, live: &Live) -> AppInfo {
        let c = &live.station.config;
        let scanner = app_support::SimulatedFingers::info();
        let camera = app_support::simulated_camera_info();
        let cameras = vec![DeviceDto { id: "simulated".into(), name: camera.name, kind: "camera".into() }];
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            kiosk: self.launch.kiosk,
            embedded_server: live.settings.embedded_server,
            server_url: c.server_url.clone(),
            server_running: live.server.is_some(),
            server_error: live.server_error.clone(),
            data_dir: c.data_dir.display().to_string(),
            secrets: live.station.secrets.describe(),
            station_id: c.station_id.clone(),
            operator: c.operator.clone(),
            signed_in: live.signed_in.clone(),
            role: live.role.map(|r| r.as_str().to_owned()),
            scanner: live.settings.scanner.clone(),
            camera: live.settings.camera.clone(),
            scanners: vec![DeviceDto { id: "simulated".into(), name: scanner.name, kind: "fingerprint_scanner".into() }],
            cameras,
            idle_timeout_s: live.settings.idle_timeout_s,
            ready_ms: *self.ready_ms.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

/// Starts the embedded server on the server URL's loopback address when the setting is on.
async fn start_embedded(live: &mut Live) {
    live.server_error = None;
    if !live.settings.embedded_server {
        return;
    }
    let addr = match app_support::server_address(&live.station.config.server_url) {
        Ok(a) if a.ip().is_loopback() => a,
        Ok(a) => {
            live.server_error = Some(format!("the embedded server only listens on 127.0.0.1, not {}", a.ip()));
            return;
        }
        Err(e) => {
            live.server_error = Some(e);
            return;
        }
    };
    let mut config = server::ServerConfig::new(live.station.config.data_dir.join("server.sqlite"));
    if let Ok(password) = std::env::var("CAPTURE_ADMIN_PASSWORD") {
        config.bootstrap_admin =
            Some(server::BootstrapAdmin { document: std::env::var("CAPTURE_ADMIN").unwrap_or_else(|_| "admin".into()), password });
    }
    match server::spawn(config, addr).await {
        Ok(running) => {
            tracing::info!(url = %running.base_url(), "embedded server started");
            live.server = Some(running);
        }
        Err(e) => live.server_error = Some(format!("embedded server: {e}")),
    }
}

#[tauri::command]
async fn app_info(shell: tauri::State<'_, Shell>) -> CmdResult<AppInfo> {
    let live = shell.live.lock().await;
    Ok(shell.info(&live))
}

/// The window calls this once its first screen is interactive: start-up time, measured from
/// process start.
#[tauri::command]
fn ui_ready(shell: tauri::State<'_, Shell>) -> u32 {
    let mut ready = shell.ready_ms.lock().unwrap_or_else(|p| p.into_inner());
    let ms = *ready.get_or_insert(shell.started.elapsed().as_millis() as u32);
    eprintln!("capture-station-app: interactive {ms} ms after start");
    ms
}

#[tauri::command]
async fn save_settings(shell: tauri::State<'_, Shell>, settings: SettingsDto) -> CmdResult<AppInfo> {
    let mut live = shell.live.lock().await;
    let url = settings.server_url.trim().trim_end_matches('/').to_owned();
    let new = AppSettings {
        embedded_server: settings.embedded_server,
        server_url: (url != shell.configured_url).then_some(url.clone()),
        scanner: settings.scanner,
        camera: settings.camera,
        idle_timeout_s: settings.idle_timeout_s,
    };
    new.save(&live.station.config.data_dir)?;
    let restart = new.embedded_server != live.settings.embedded_server || url != live.station.config.server_url;
    live.settings = new;
    if !shell.env_url {
        live.station.config.server_url = url;
    }
    if restart {
        if let Some(running) = live.server.take() {
            running.shutdown().await;
        }
        start_embedded(&mut live).await;
    }
    Ok(shell.info(&live))
}

/// Checks the operator's credentials with the server (a token from the GBDS login) and keeps
/// the password in the secret store so sync can log in unattended.
#[tauri::command]
async fn sign_in(shell: tauri::State<'_, Shell>, user: String, password: String) -> CmdResult<AppInfo> {
    let user = user.trim().to_owned();
    if user.is_empty() || password.is_empty() {
        return Err("enter the operator name and password".into());
    }
    let url = shell.live.lock().await.station.config.server_url.clone();
    let client = SpidClient::new(&url, Credentials { user: user.clone(), password: password.clone() }, Duration::from_secs(10))
        .map_err(err)?;
    client.login().await.map_err(err)?;
    // The server's record of this user decides which screens the window offers; the server still
    // checks every admin call itself.
    let role = match RemoteAdmin::new(&client, &user).role().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the signed-in user's role; offering operator screens only");
            OperatorRole::Operator
        }
    };
    let mut live = shell.live.lock().await;
    live.station.remember_password(&user, &password).map_err(err)?;
    live.station.config.operator = user.clone();
    live.signed_in = Some(user);
    live.session = Some(Arc::new(client));
    live.role = Some(role);
    Ok(shell.info(&live))
}

#[tauri::command]
async fn sign_out(shell: tauri::State<'_, Shell>) -> CmdResult<AppInfo> {
    shell.face_stop.store(true, Ordering::Relaxed);
    let mut live = shell.live.lock().await;
    live.signed_in = None;
    live.session = None;
    live.role = None;
    live.draft = None;
    live.fingers = None;
    Ok(shell.info(&live))
}

#[tauri::command]
async fn start_enrollment(shell: tauri::State<'_, Shell>, user_id: String, name: String) -> Result<DraftDto, FieldErrorsDto> {
    let draft = EnrollmentDraft::new(&user_id, &name).map_err(FieldErrorsDto::from)?;
    let mut live = shell.live.lock().await;
    // The simulated scanner presents the fingers of the simulated person with this key.
    live.fingers = Some(SimulatedFingers::new(&draft.user_id, ScanTiming::REALISTIC));
    let dto = DraftDto::of(&draft);
    live.draft = Some(draft);
    Ok(dto)
}

#[tauri::command]
async fn draft(shell: tauri::State<'_, Shell>) -> CmdResult<Option<DraftDto>> {
    Ok(shell.live.lock().await.draft.as_ref().map(DraftDto::of))
}

#[tauri::command]
async fn discard_enrollment(shell: tauri::State<'_, Shell>) -> CmdResult<()> {
    shell.face_stop.store(true, Ordering::Relaxed);
    let mut live = shell.live.lock().await;
    live.draft = None;
    live.fingers = None;
    Ok(())
}

fn finger(position: u16) -> CmdResult<BiometricIndex> {
    BiometricIndex::try_from(position as i64).ok().filter(|i| i.is_finger()).ok_or_else(|| format!("{position} is not a finger position"))
}

/// Captures one finger with the simulated scanner (events `scan-event` while it runs).
#[tauri::command]
async fn capture_finger(app: tauri::AppHandle, shell: tauri::State<'_, Shell>, position: u16) -> CmdResult<DraftDto> {
    let index = finger(position)?;
    let mut fingers = shell.live.lock().await.fingers.take().ok_or("start an enrollment first")?;
    let events = app.clone();
    let (fingers, captured) = tauri::async_runtime::spawn_blocking(move || {
        let r = fingers.capture(index, Duration::from_secs(15), |e| {
            let _ = events.emit("scan-event", ScanEventDto::of(position, e));
        });
        (fingers, r)
    })
    .await
    .map_err(err)?;
    let mut live = shell.live.lock().await;
    live.fingers = Some(fingers);
    let image = captured.map_err(err)?;
    let draft = live.draft.as_mut().ok_or("the enrollment was discarded")?;
    draft.put_finger(image)?;
    Ok(DraftDto::of(draft))
}

#[tauri::command]
async fn mark_missing(shell: tauri::State<'_, Shell>, position: u16, kind: String, reason: String) -> CmdResult<DraftDto> {
    let index = finger(position)?;
    let kind = app_support::parse_missing_type(&kind).ok_or_else(|| format!("unknown missing type {kind:?}"))?;
    let mut live = shell.live.lock().await;
    let draft = live.draft.as_mut().ok_or("start an enrollment first")?;
    draft.mark_missing(index, kind, &reason)?;
    Ok(DraftDto::of(draft))
}

#[tauri::command]
async fn clear_missing(shell: tauri::State<'_, Shell>, position: u16) -> CmdResult<DraftDto> {
    let index = finger(position)?;
    let mut live = shell.live.lock().await;
    let draft = live.draft.as_mut().ok_or("start an enrollment first")?;
    draft.clear_missing(index);
    Ok(DraftDto::of(draft))
}

/// On Linux without a GPU (no DRM render node, e.g. under Xvfb), WebKitGTK would still paint with
/// Skia's GPU backend on Mesa's software OpenGL (llvmpipe), which costs the web process more CPU
/// per face-preview frame (46–47 ms) than Skia's CPU painting (35–36 ms), measured on the shared
/// 2-core machine (docs/benchmarks/app.md). An explicit `WEBKIT_SKIA_ENABLE_CPU_RENDERING` wins.
fn prefer_cpu_rendering_without_gpu() {
    const VAR: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
    if !cfg!(target_os = "linux") || std::env::var_os(VAR).is_some() {
        return;
    }
    let render_node = std::fs::read_dir("/dev/dri")
        .map(|dir| dir.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false);
    if !render_node {
        // Still single-threaded: nothing else reads the environment yet.
        std::env::set_var(VAR, "1");
    }
}

/// Starts the face step: the camera's frames go to the window as `face-preview` events (the window
/// then loads each JPEG over the `preview:` URI scheme; at the camera's rate, at most a few ahead of
/// what the window has handled), the analysis of the newest
/// frame goes through `analysis` (overlay, prompt, challenge), and `face-done` says how it ended
/// (the crop and the liveness result land in the draft).
#[tauri::command]
async fn start_face(
    app: tauri::AppHandle,
    shell: tauri::State<'_, Shell>,
    analysis: Channel<FaceAnalysisDto>,
) -> CmdResult<()> {
    if shell.live.lock().await.draft.is_none() {
        return Err("start an enrollment first".into());
    }
    if shell.face_running.swap(true, Ordering::SeqCst) {
        return Err("the camera is already streaming".into());
    }
    shell.face_stop.store(false, Ordering::SeqCst);
    let stream = shell.face_streams.fetch_add(1, Ordering::SeqCst) + 1;
    shell.previews.start(stream);
    let (stop, running, pipeline, previews) =
        (shell.face_stop.clone(), shell.face_running.clone(), shell.pipeline.clone(), shell.previews.clone());
    std::thread::spawn(move || {
        let done = face_stream(&app, &stop, &pipeline, (stream, &previews), analysis);
        running.store(false, Ordering::SeqCst);
        let _ = app.emit("face-done", done);
    });
    Ok(())
}

/// JPEG quality of the preview: about 30 kB per VGA frame.
const PREVIEW_JPEG_QUALITY: u8 = 70;

fn face_stream(
    app: &tauri::AppHandle,
    stop: &AtomicBool,
    pipeline: &std::sync::Mutex<Option<face::FacePipeline>>,
    (stream, previews): (u64, &PreviewFrames),
    analysis: Channel<FaceAnalysisDto>,
) -> FaceDoneDto {
    let failed = |message: String| FaceDoneDto::ended("failed", message);
    let mut guard = pipeline.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        match face::FacePipeline::new(&face::PipelineConfig::default()) {
            Ok(p) => *guard = Some(p),
            Err(e) => return failed(format!("face pipeline unavailable: {e}")),
        }
    }
    let Some(pipe) = guard.as_mut() else { return failed("face pipeline unavailable".into()) };
    // The simulated subject stands too far away for a moment, steps up, looks straight at the
    // camera and does what the prompt on the screen asks (turns the head, blinks).
    let portrait = match app_face::frontal_subject() {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let mut camera = app_support::WalkUpCamera::new(Duration::from_millis(2500), Duration::from_millis(1500))
        .with_motion(Motion::Cooperative)
        .with_portrait(portrait);
    let subject = camera.subject();
    let sent = AtomicU64::new(0);
    let mut last: Option<AnalysisView> = None;
    let outcome = app_face::run_face_step(
        &mut camera,
        subject.as_ref(),
        pipe,
        &FaceStepConfig::default(),
        stop,
        |frame, index| {
            // Frames the window could not paint in time are dropped before any work is spent.
            if previews.window_behind(sent.load(Ordering::Relaxed)) {
                return Ok(());
            }
            let (jpeg, _, _) = app_face::preview_jpeg(frame, 640, PREVIEW_JPEG_QUALITY)?;
            previews.put(stream, index, jpeg);
            if app.emit("face-preview", PreviewDto { stream, frame: index }).is_ok() {
                sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        },
        |v| {
            let _ = analysis.send(FaceAnalysisDto::of(v));
            last = Some(v.clone());
        },
    );
    let stats = |mut d: FaceDoneDto| {
        d.analysed_fps = last.as_ref().map_or(0.0, |v| v.analysed_fps);
        d.camera_fps = last.as_ref().map_or(0.0, |v| v.camera_fps);
        d
    };
    match outcome {
        Ok(FaceStepOutcome::Captured { image, result, liveness }) => {
            let shell = app.state::<Shell>();
            let mut live = shell.live.blocking_lock();
            let Some(draft) = live.draft.as_mut() else { return failed("the enrollment was discarded".into()) };
            let mut done = FaceDoneDto::ended(
                "captured",
                format!("captured automatically (eyes {:.0} px apart)", result.iso.source_eye_distance),
            );
            done.image = Some(data_url("image/png", &image.bytes));
            done.liveness = liveness.as_ref().map(LivenessDto::of);
            draft.set_face(image, liveness);
            stats(done)
        }
        Ok(FaceStepOutcome::Stopped) => stats(FaceDoneDto::ended("stopped", "camera stopped".into())),
        Ok(FaceStepOutcome::GaveUp) => stats(FaceDoneDto::ended("gave_up", "no compliant face within a minute".into())),
        Err(e) => stats(failed(e.to_string())),
    }
}

#[tauri::command]
fn stop_face(shell: tauri::State<'_, Shell>) {
    shell.face_stop.store(true, Ordering::SeqCst);
}

/// Puts the reviewed enrollment into the queue and starts a sync in the background.
#[tauri::command]
async fn submit_enrollment(app: tauri::AppHandle, shell: tauri::State<'_, Shell>) -> CmdResult<String> {
    let mut live = shell.live.lock().await;
    let operator = live.signed_in.clone().unwrap_or_else(|| live.station.config.operator.clone());
    let draft = live.draft.as_ref().ok_or("start an enrollment first")?;
    let enrollment = draft.to_enrollment(&operator, station::queue::now_ms())?;
    let id = live.station.queue.add(enrollment, true).await.map_err(err)?;
    live.draft = None;
    live.fingers = None;
    drop(live);
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        let _ = run_sync(&app, &shell).await;
    });
    Ok(id)
}

async fn run_sync(app: &tauri::AppHandle, shell: &Shell) -> SyncDto {
    let Ok(_guard) = shell.syncing.try_lock() else {
        // A sync is already running; it picks up whatever is queued.
        return shell.live.lock().await.last_sync.clone().unwrap_or_default();
    };
    let syncer: Result<Syncer, String> = shell.live.lock().await.station.syncer().map_err(err);
    let result = match syncer {
        Ok(s) => {
            let _ = app.emit("sync-progress", SyncDto { running: true, ..Default::default() });
            // The sync engine's future is not `Send` (it shares progress through `Cell`s between
            // its lanes), so it runs to completion on a blocking thread of the app's runtime.
            let events = app.clone();
            tauri::async_runtime::spawn_blocking(move || {
                tauri::async_runtime::block_on(async move {
                    s.run_until_drained(Some(Duration::from_secs(60)), |p| {
                        let _ = events.emit("sync-progress", SyncDto::of(p, true));
                    })
                    .await
                    .map(|p| SyncDto::of(&p, false))
                    .map_err(err)
                })
            })
            .await
            .map_err(err)
            .and_then(|r| r)
        }
        Err(e) => Err(e),
    };
    let dto = match result {
        Ok(d) => d,
        Err(e) => {
            let outstanding = shell.queue.counts().await.map(|c| c.outstanding().max(0) as u32).unwrap_or(0);
            SyncDto { running: false, outstanding, error: Some(e), ..Default::default() }
        }
    };
    shell.live.lock().await.last_sync = Some(dto.clone());
    let _ = app.emit("sync-progress", dto.clone());
    dto
}

#[tauri::command]
async fn sync_now(app: tauri::AppHandle, shell: tauri::State<'_, Shell>) -> CmdResult<SyncDto> {
    Ok(run_sync(&app, &shell).await)
}

#[tauri::command]
async fn queue_view(shell: tauri::State<'_, Shell>) -> CmdResult<QueueView> {
    let rows = shell.queue.list(None, 200).await.map_err(err)?.into_iter().map(QueueRow::from).collect();
    let counts = shell.queue.counts().await.map_err(err)?.into();
    let sync = shell.live.lock().await.last_sync.clone();
    let sync = sync.map(|mut s| {
        s.running = shell.syncing.try_lock().is_err();
        s
    });
    Ok(QueueView { rows, counts, sync })
}

#[tauri::command]
async fn retry_enrollment(app: tauri::AppHandle, shell: tauri::State<'_, Shell>, id: String) -> CmdResult<QueueView> {
    shell.queue.retry(&id).await.map_err(err)?;
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = handle.state::<Shell>();
        let _ = run_sync(&handle, &shell).await;
    });
    queue_view(shell).await
}

/// The signed-in session, for calls made as the signed-in user.
async fn session(shell: &Shell) -> CmdResult<(Arc<SpidClient>, String)> {
    let live = shell.live.lock().await;
    match (&live.session, &live.signed_in) {
        (Some(c), Some(u)) => Ok((c.clone(), u.clone())),
        _ => Err("sign in first".into()),
    }
}

/// Remote captures for the admin view, each captured one with its stored face image. The server
/// refuses operators (403); that refusal is passed on as it is.
#[tauri::command]
async fn remote_pending(shell: tauri::State<'_, Shell>, all: bool) -> CmdResult<Vec<RemoteCaptureDto>> {
    let (client, user) = session(&shell).await?;
    let admin = RemoteAdmin::new(&client, &user);
    let mut rows = Vec::new();
    for summary in admin.pending(all).await.map_err(err)? {
        let mut dto = RemoteCaptureDto::from(summary);
        if dto.captured_at.is_some() && dto.status != RemoteCaptureStatus::Expired.as_str() {
            match admin.biometric(&dto.tguid, None).await {
                Ok(b) => dto.attach_image(&b),
                Err(e) => dto.image_error = Some(e.to_string()),
            }
        }
        rows.push(dto);
    }
    Ok(rows)
}

/// Approves or rejects a remote capture (a rejection needs a reason).
#[tauri::command]
async fn remote_decide(shell: tauri::State<'_, Shell>, tguid: String, approve: bool, reason: String) -> CmdResult<()> {
    let (client, user) = session(&shell).await?;
    RemoteAdmin::new(&client, &user).decide(&tguid, approve, &reason).await.map_err(err)
}

/// Creates a remote enrollment link for a CPF.
#[tauri::command]
async fn remote_create_link(shell: tauri::State<'_, Shell>, client_id: String, email: String) -> CmdResult<RemoteLinkDto> {
    let cpf = app_support::normalize_cpf(&client_id)?;
    let (client, user) = session(&shell).await?;
    let email = Some(email.as_str()).filter(|e| !e.trim().is_empty());
    let r = RemoteAdmin::new(&client, &user).create_enroll_link(&cpf, email).await.map_err(err)?;
    Ok(RemoteLinkDto { tguid: r.tguid, link: r.dynamic_link })
}

/// Verify (1:1): captures `positions` with the simulated scanner (presenting the fingers of the
/// simulated person `presenter`; `scan-event` while it runs) and asks the server whether they
/// belong to the person enrolled under `user_id`.
#[tauri::command]
async fn verify_person(
    app: tauri::AppHandle,
    shell: tauri::State<'_, Shell>,
    user_id: String,
    presenter: String,
    positions: Vec<u16>,
) -> CmdResult<VerifyResultDto> {
    let positions = positions.into_iter().map(finger).collect::<CmdResult<Vec<_>>>()?;
    let cpf = app_verify::validate_request(&user_id, &positions)?;
    let presenter = if presenter.trim().is_empty() { cpf.clone() } else { presenter.trim().to_owned() };
    let (client, operator) = session(&shell).await?;
    let events = app.clone();
    let probe = tauri::async_runtime::spawn_blocking(move || {
        app_verify::capture_probe(&presenter, &positions, ScanTiming::REALISTIC, |index, e| {
            let _ = events.emit("scan-event", ScanEventDto::of(index.code(), e));
        })
    })
    .await
    .map_err(err)?
    .map_err(err)?;
    let answer = station::verify::verify(&client, &cpf, &operator, &probe, Duration::from_secs(30)).await.map_err(err)?;
    Ok(VerifyResultDto::of(&app_verify::VerifySummary::of(&answer), &probe))
}

/// Leaves kiosk mode (quits the app) when the admin PIN matches `STATION_KIOSK_PIN` or the
/// `kiosk-admin-pin` secret.
#[tauri::command]
async fn kiosk_exit(app: tauri::AppHandle, shell: tauri::State<'_, Shell>, pin: String) -> CmdResult<()> {
    let configured = match std::env::var("STATION_KIOSK_PIN").ok().filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => shell.live.lock().await.station.secrets.get(app_support::KIOSK_PIN_SECRET).ok().flatten().unwrap_or_default(),
    };
    if configured.is_empty() {
        return Err("no admin PIN is configured (STATION_KIOSK_PIN); the kiosk can only be left from the OS".into());
    }
    if !app_support::pin_matches(&configured, pin.trim()) {
        return Err("wrong PIN".into());
    }
    shell.face_stop.store(true, Ordering::SeqCst);
    app.exit(0);
    Ok(())
}

/// Builds and runs the app.
pub fn run() {
    let started = Instant::now();
    prefer_cpu_rendering_without_gpu();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("STATION_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    let launch = match Launch::from_env() {
        Ok(l) => l,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let kiosk = launch.kiosk;
    let shell = match tauri::async_runtime::block_on(Shell::open(launch, started)) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("capture-station-app: cannot open the station: {message}");
            std::process::exit(1);
        }
    };
    tauri::Builder::default()
        .manage(shell)
        .setup(move |app| {
            if kiosk {
                if let Some(window) = app.get_webview_window("main") {
                    window.set_decorations(false)?;
                    window.set_fullscreen(true)?;
                    window.set_title("Capture Station — self-service")?;
                }
            }
            Ok(())
        })
        .register_asynchronous_uri_scheme_protocol("preview", |ctx, request, responder| {
            let shell = ctx.app_handle().state::<Shell>();
            responder.respond(preview::respond(&shell.previews, &request));
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            ui_ready,
            save_settings,
            sign_in,
            sign_out,
            start_enrollment,
            draft,
            discard_enrollment,
            capture_finger,
            mark_missing,
            clear_missing,
            start_face,
            stop_face,
            submit_enrollment,
            sync_now,
            queue_view,
            retry_enrollment,
            kiosk_exit,
            remote_pending,
            remote_decide,
            remote_create_link,
            verify_person,
        ])
        .run(tauri::generate_context!())
        .expect("error while running the capture station app");
}
