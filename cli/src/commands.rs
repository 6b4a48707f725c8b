//! One function per subcommand; each opens what it needs from the `station` and `server`
//! crates and prints human output (or JSON where scripts consume it).

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use station::queue::{EnrollmentState, NewEnrollment};
use station::{Station, StationConfig};
use wire::spid::{KeyValue, MissingBiometric, MissingType};
use wire::BiometricIndex;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (SPID clients expect port 8082).
    #[arg(long, default_value = "127.0.0.1:8082")]
    listen: SocketAddr,
    /// Server database: a SQLite file (default <data_dir>/server.sqlite) or a PostgreSQL URL
    /// (`postgres://user@host/db`) for a standalone server shared by many stations.
    #[arg(long, alias = "db", env = "CAPTURE_SERVER_DATABASE")]
    database: Option<String>,
    /// Document (user name) of the admin created at first start; its password comes from
    /// the CAPTURE_ADMIN_PASSWORD environment variable.
    #[arg(long, default_value = "admin")]
    admin: String,
}

pub async fn serve(config: &StationConfig, args: ServeArgs) -> anyhow::Result<()> {
    let db = match args.database {
        Some(value) => server::DatabaseLocation::parse(&value),
        None => server::DatabaseLocation::Sqlite(config.data_dir.join("server.sqlite")),
    };
    let mut server_config = server::ServerConfig::with_database(db.clone());
    if let Ok(password) = std::env::var("CAPTURE_ADMIN_PASSWORD") {
        if password.chars().count() < 8 {
            bail!("CAPTURE_ADMIN_PASSWORD must have at least 8 characters");
        }
        server_config.bootstrap_admin = Some(server::BootstrapAdmin { document: args.admin.clone(), password });
    }
    let running = server::spawn(server_config, args.listen).await.context("starting the server")?;
    println!("capture-station server listening on {} (database {db})", running.base_url());
    std::io::stdout().flush().ok();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("shutting down");
    running.shutdown().await;
    Ok(())
}

#[derive(Args)]
pub struct LoginArgs {
    /// Operator document (user name). Default: the configured operator.
    #[arg(long)]
    user: Option<String>,
    /// Read the password from the first line of standard input instead of STATION_PASSWORD.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn login(mut config: StationConfig, args: LoginArgs) -> anyhow::Result<()> {
    if let Some(user) = args.user {
        config.operator = user;
    }
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        std::env::var("STATION_PASSWORD").context("give the password on stdin (--password-stdin) or in STATION_PASSWORD")?
    };
    let station = Station::open(config).await?;
    let client = station::sync::SpidClient::new(
        &station.config.server_url,
        station::sync::Credentials { user: station.config.operator.clone(), password: password.clone() },
        Duration::from_secs(10),
    )?;
    client.login().await?;
    station.remember_password(&station.config.operator, &password)?;
    println!("logged in as {} at {}; password kept in {}", station.config.operator, station.config.server_url, station.secrets.describe());
    Ok(())
}

#[derive(Args)]
pub struct EnrollArgs {
    /// Capture with the simulated fingerprint scanner and camera (needs no hardware).
    #[arg(long, conflicts_with = "images", required_unless_present = "images")]
    simulated: bool,
    /// Import captures from a folder of image files named by position: `6.png` (right index),
    /// `10.jpg` (face), … — e.g. the output of a vendor capture tool.
    #[arg(long)]
    images: Option<PathBuf>,
    /// The subject's key (CPF).
    #[arg(long)]
    user_id: String,
    /// The subject's name (biographic NAME).
    #[arg(long, default_value = "DEMO PERSON")]
    name: String,
    /// Finger positions to capture (0-9, comma separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7,8")]
    fingers: Vec<u16>,
    /// Positions that cannot be captured, as INDEX:TYPE:REASON (TYPE = AMPUTATED, BANDAGED, DAMAGED, UNABLE_TO_CAPTURE).
    #[arg(long = "missing")]
    missing: Vec<String>,
    /// Skip the face capture.
    #[arg(long)]
    no_face: bool,
    /// Keep the capture in `captured` for review instead of queueing it.
    #[arg(long)]
    review: bool,
}

fn parse_missing(spec: &str) -> anyhow::Result<MissingBiometric> {
    let mut parts = spec.splitn(3, ':');
    let index: i64 = parts.next().unwrap_or("").parse().context("missing INDEX must be a number")?;
    let index = BiometricIndex::try_from(index)?;
    let kind = match parts.next().unwrap_or("") {
        "AMPUTATED" => MissingType::Amputated,
        "BANDAGED" => MissingType::Bandaged,
        "DAMAGED" => MissingType::Damaged,
        "UNABLE_TO_CAPTURE" => MissingType::UnableToCapture,
        other => bail!("unknown missing type {other:?}; use AMPUTATED, BANDAGED, DAMAGED or UNABLE_TO_CAPTURE"),
    };
    Ok(MissingBiometric { index, kind, reason: parts.next().unwrap_or("").to_owned() })
}

/// Reads `<index>.<png|jpg|jpeg>` files from `dir` as captures.
fn images_from_folder(dir: &Path) -> anyhow::Result<Vec<station::queue::CapturedImage>> {
    let mut images = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let (Some(stem), Some(ext)) = (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|s| s.to_str())) else {
            continue;
        };
        if !matches!(ext.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg") {
            continue;
        }
        let code: i64 = stem.parse().with_context(|| format!("{}: name must be a biometric index such as 6.png", path.display()))?;
        let index = BiometricIndex::try_from(code).with_context(|| path.display().to_string())?;
        let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
        let (width, height) = image::ImageReader::new(std::io::Cursor::new(&bytes))
            .with_guessed_format()?
            .into_dimensions()
            .with_context(|| format!("{} is not a readable image", path.display()))?;
        let resolution = index.is_finger().then_some(500);
        images.push(station::queue::CapturedImage { index, width, height, resolution, bytes });
    }
    if images.is_empty() {
        bail!("no <index>.png/.jpg images in {}", dir.display());
    }
    images.sort_by_key(|i| i.index);
    Ok(images)
}

pub async fn enroll(config: StationConfig, args: EnrollArgs) -> anyhow::Result<()> {
    let fingers = args
        .fingers
        .iter()
        .map(|&code| BiometricIndex::try_from(code as i64).ok().filter(|i| i.is_finger()).with_context(|| format!("{code} is not a finger position (0-9)")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let missing = args.missing.iter().map(|m| parse_missing(m)).collect::<anyhow::Result<Vec<_>>>()?;
    let station = Station::open(config).await?;
    let operator = station.config.operator.clone();
    let user_id = args.user_id.clone();
    let with_face = !args.no_face;
    let images = match args.images {
        Some(dir) => images_from_folder(&dir)?,
        None => tokio::task::spawn_blocking(move || crate::simulated::capture_person(&user_id, &fingers, with_face)).await??,
    };
    let enrollment = NewEnrollment {
        user_id: args.user_id.clone(),
        operator_id: operator,
        biographics: vec![KeyValue { id: "NAME".into(), value: args.name.clone() }],
        missing,
        images,
        captured_at: chrono::Utc::now().timestamp_millis(),
    };
    let count = enrollment.images.len();
    let id = station.queue.add(enrollment, !args.review).await?;
    println!("enrollment {id} for {} captured ({count} images) and {}", args.user_id, if args.review { "kept for review" } else { "queued" });
    Ok(())
}

#[derive(Args)]
pub struct SyncArgs {
    /// Give up after this many seconds (0 = keep trying until the queue is drained).
    #[arg(long, default_value_t = 0)]
    timeout: u64,
}

pub async fn sync(config: StationConfig, args: SyncArgs) -> anyhow::Result<()> {
    let station = Station::open(config).await?;
    let syncer = station.syncer()?;
    let deadline = (args.timeout > 0).then(|| Duration::from_secs(args.timeout));
    println!("syncing to {}", station.config.server_url);
    let total = syncer
        .run_until_drained(deadline, |p| {
            println!(
                "  uploaded {} · synced {} · rejected {} · retries {} · outstanding {}",
                p.uploaded, p.synced, p.rejected, p.deferred, p.outstanding
            );
        })
        .await?;
    println!("queue drained: {} synced, {} rejected", total.synced, total.rejected);
    if total.rejected > 0 {
        println!("see `capture-station queue list --state rejected` for the server's reasons");
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum QueueCommand {
    /// List enrollments, newest first.
    List {
        /// Only this state (captured, queued, sending, accepted, rejected, synced).
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one enrollment with its images and history (id or unique prefix).
    Show { id: String },
    /// Re-queue a rejected enrollment, or make a waiting one due now.
    Retry { id: String },
    /// Queue a capture that was kept for review.
    Submit { id: String },
    /// Remove the images, request body and biographics of enrollments the server enrolled at
    /// least DAYS ago (rows and history stay). Other states are never touched.
    Purge {
        /// Only enrollments synced at least this many days ago (0 = every synced one).
        #[arg(long, value_name = "DAYS")]
        synced_days_ago: u32,
    },
}

fn parse_state(s: &str) -> anyhow::Result<EnrollmentState> {
    EnrollmentState::ALL.into_iter().find(|st| st.as_str() == s).with_context(|| format!("unknown state {s:?}"))
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

pub async fn queue(config: StationConfig, cmd: QueueCommand) -> anyhow::Result<()> {
    let station = Station::open(config).await?;
    let q = &station.queue;
    match cmd {
        QueueCommand::List { state, limit, json } => {
            let state = state.as_deref().map(parse_state).transpose()?;
            let rows = q.list(state, limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            println!("{:<10} {:<9} {:<14} {:<19} {:>3}  server", "id", "state", "user", "captured", "try");
            for r in rows {
                let server = match (&r.server_code, &r.server_message, &r.last_error) {
                    (Some(code), Some(msg), _) => format!("{code}: {msg}"),
                    (None, Some(msg), _) => msg.clone(),
                    (_, None, Some(err)) => format!("(retrying) {err}"),
                    _ => String::new(),
                };
                println!("{:<10} {:<9} {:<14} {:<19} {:>3}  {}", &r.id[..8], r.state, r.user_id, when(r.captured_at), r.attempts, server);
            }
        }
        QueueCommand::Show { id } => {
            let id = q.resolve_id(&id).await?;
            println!("{}", serde_json::to_string_pretty(&q.show(&id).await?)?);
        }
        QueueCommand::Retry { id } => {
            let id = q.resolve_id(&id).await?;
            q.retry(&id).await?;
            println!("enrollment {id} queued again");
        }
        QueueCommand::Submit { id } => {
            let id = q.resolve_id(&id).await?;
            q.submit(&id).await?;
            println!("enrollment {id} queued");
        }
        QueueCommand::Purge { synced_days_ago } => {
            let before = station::queue::now_ms() - i64::from(synced_days_ago) * 86_400_000;
            let n = q.purge_synced(before).await?;
            println!("purged the personal data of {n} synced enrollment(s) synced {synced_days_ago}+ days ago");
        }
    }
    Ok(())
}

pub async fn status(config: StationConfig, config_path: &Path) -> anyhow::Result<()> {
    let station = Station::open(config).await?;
    let c = &station.config;
    println!("config      {}{}", config_path.display(), if config_path.exists() { "" } else { " (not present; defaults + env)" });
    println!("data dir    {}", c.data_dir.display());
    println!("secrets     {}", station.secrets.describe());
    println!("operator    {}", c.operator);
    let counts = station.queue.counts().await?;
    println!(
        "queue       captured {} · queued {} · sending {} · accepted {} · rejected {} · synced {}",
        counts.captured, counts.queued, counts.sending, counts.accepted, counts.rejected, counts.synced
    );
    let url = format!("{}{}/status", c.server_url.trim_end_matches('/'), wire::SPID_PREFIX);
    let reach = reqwest::Client::builder().timeout(Duration::from_secs(3)).build()?.get(&url).send().await;
    match reach {
        Ok(r) if r.status().is_success() => println!("server      {} reachable", c.server_url),
        Ok(r) => println!("server      {} answered HTTP {}", c.server_url, r.status()),
        Err(e) => println!("server      {} unreachable ({e}); captures stay queued", c.server_url),
    }
    Ok(())
}

#[derive(Args)]
pub struct PersonArgs {
    /// The person's key (CPF / userId).
    key: String,
    /// Print image contents in full instead of their sizes.
    #[arg(long)]
    full: bool,
}

pub async fn person(config: StationConfig, args: PersonArgs) -> anyhow::Result<()> {
    let station = Station::open(config).await?;
    let syncer = station.syncer()?;
    let client = syncer.client();
    let token = client.token().await?;
    let url = format!("{}{}/people/{}", client.base_url(), wire::SPID_PREFIX, args.key);
    let resp = client.http().get(&url).bearer_auth(token).send().await?;
    let status = resp.status();
    let mut body: serde_json::Value = resp.json().await.context("server answer is not JSON")?;
    if !status.is_success() {
        bail!("server answered {status}: {}", body["errors"][0]["message"].as_str().unwrap_or(""));
    }
    if !args.full {
        if let Some(bios) = body["biometrics"].as_array_mut() {
            for b in bios {
                let len = b["content"].as_str().map(str::len).unwrap_or(0);
                b["content"] = serde_json::Value::String(format!("<{len} base64 characters>"));
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}
