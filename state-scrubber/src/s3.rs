//! `state-scrubber audit s3://bucket/prefix/`: list every state-looking object under a prefix
//! (with `--all-versions`, every version of it), fetch them with a bounded number of requests in
//! flight, and scan them with the per-file scanner on the bytes.
//!
//! Configuration follows the AWS conventions (as `provider/common/src/store/aws/` does): the
//! standard credential chain (environment, shared files and `--profile`, SSO, web identity,
//! ECS/IMDS), `AWS_REGION` or the profile's region unless `--region`, `AWS_ENDPOINT_URL_S3` /
//! `AWS_ENDPOINT_URL` (read by aws-config) unless `--endpoint`, path-style addressing for a custom
//! endpoint, the SDK's standard retry mode.
//!
//! Memory: at most `concurrency` objects are held at once (a permit is taken before the GET and
//! released after the scan). An object over [`IN_MEMORY_MAX`] is streamed into a 0600 file in a
//! private (0700) temporary directory, memory-mapped and scanned like a local file, then deleted.
//! Nothing here logs: no tracing subscriber is installed, and errors carry S3's code and message,
//! never object bytes.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use offstate_common::store::aws::error_chain;

use crate::audit::{scan_bytes, FileResult};
use crate::detect::Engine;
use crate::input::{self, Source};
use crate::progress::Progress;
use crate::scrub::interrupt::PrivateDir;

/// Objects up to this size are read into memory; larger ones go through a temporary file.
pub const IN_MEMORY_MAX: u64 = 32 << 20;
/// Requests (objects being fetched or scanned) in flight when `--concurrency` is not given.
pub const DEFAULT_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Objects in flight (fetching or waiting to be scanned); 0 = [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Also scan non-current versions (ListObjectVersions).
    pub all_versions: bool,
    /// Endpoint URL (a local S3, MinIO, moto); else `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Every URL of the run as given, before those another one covers are left out: an object
    /// one of them names (a prefix not ending in `/`) is read as named by whichever listing
    /// finds it.
    pub named: Vec<String>,
}

pub fn is_s3_url(s: &str) -> bool {
    s.starts_with("s3://")
}

/// `s3://bucket/prefix` split into bucket and prefix (which may be empty).
pub fn parse_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("{url}: not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("{url}: no bucket name (s3://bucket/prefix/)"));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// One object (version) to scan.
#[derive(Debug, Clone)]
struct Object {
    bucket: String,
    key: String,
    version_id: Option<String>,
    size: u64,
}

impl Object {
    fn label(&self) -> String {
        match &self.version_id {
            Some(v) => format!("s3://{}/{}?versionId={v}", self.bucket, self.key),
            None => format!("s3://{}/{}", self.bucket, self.key),
        }
    }
}

/// What a fetch produced for the scanners.
enum Fetched {
    Memory(Vec<u8>),
    Spilled(tempfile::NamedTempFile),
    /// GetObject said `InvalidObjectState`: the object (version) is archived (S3 Glacier
    /// Flexible Retrieval or Deep Archive, an Intelligent-Tiering archive tier) and not restored.
    Archived,
}

struct Job {
    index: usize,
    label: String,
    start: Instant,
    data: Result<Fetched, String>,
    /// Found by the listing (JSON that is not Terraform's is skipped with a note, as a walk
    /// skips it), not named by the URL itself (held to the format, as a file named on the
    /// command line).
    listed: bool,
    /// Held until the object is scanned: bounds the bytes held at once.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// A short, value-free description of an SDK error: S3's code and message, or the error chain
/// by `Display` only (the provider's [`error_chain`]): `DisplayErrorContext` appends the error's
/// `Debug`, a dump of SDK internals (`DispatchFailure(DispatchFailure { source:
/// ConnectorError { ...`) and, for an unparsable answer, of the HTTP response.
fn sdk_error<
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
>(
    e: &SdkError<E, R>,
) -> String {
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => error_chain(e),
            }
        }
        // Never sent (no credentials) or never answered (nothing at the endpoint): say what to
        // set, on one line.
        _ => {
            crate::aws_advice::with_dispatch_advice(&error_chain(e), crate::aws_advice::S3_ENDPOINT)
        }
    }
}

fn validate_endpoint(e: &str) -> Result<(), String> {
    let rest = e
        .strip_prefix("http://")
        .or_else(|| e.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
        // A `user:password@` may be in it: the value is shown only when it has no `@`.
        _ if e.contains('@') => Err(
            "--endpoint: must be an http:// or https:// URL with a host (its value is not shown: \
             it may hold a password)"
                .to_string(),
        ),
        _ => Err(format!(
            "--endpoint {e:?}: must be an http:// or https:// URL with a host"
        )),
    }
}

fn retry_partition() -> aws_sdk_s3::config::retry::RetryPartition {
    use aws_sdk_s3::config::retry::{RetryPartition, TokenBucket};
    RetryPartition::custom("state-scrubber-s3")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

async fn connect(o: &S3Options) -> Result<Client, String> {
    crate::withhold_credentials();
    if let Some(e) = &o.endpoint {
        validate_endpoint(e)?;
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(3100))
                // No attempt timeout: a large object may take long; a stalled read may not.
                .read_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Ok(app) = AppName::new("state-scrubber") {
        loader = loader.app_name(app);
    }
    if let Some(r) = &o.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(p) = &o.profile {
        loader = loader.profile_name(p);
    }
    // AWS_CA_BUNDLE, as for Secrets Manager (scrub) and the AWS CLI; the client registers the
    // credentials its requests carry, and the chain those it resolves (see
    // crate::withhold_credentials), to be masked in the errors shown.
    loader = loader.http_client(
        offstate_common::store::aws::observing_http_client(None).map_err(|e| e.to_string())?,
    );
    let mut sdk = loader.load().await;
    if let Some(provider) = sdk.credentials_provider() {
        sdk = sdk
            .into_builder()
            .credentials_provider(offstate_common::store::aws::observed_credentials(provider))
            .build();
    }
    if sdk.region().is_none() {
        return Err(
            "no AWS region for S3: give --region, set AWS_REGION, or a region in the profile"
                .into(),
        );
    }
    let env_endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    // Its own retry partition with no retry quota, as the Secrets Manager client's
    // (offstate_common's `AwsSecretsManager::connect`): the SDK's standard mode shares one token
    // bucket per process (500 tokens, 5 a retry, none back for a call that failed in the end),
    // and audit goes on after an object it could not read, so under sustained throttling (or
    // 503 SlowDown) the bucket ran dry and every later throttled GET failed at its first attempt
    // ("not enough retry quota"). Each call's retries stay bounded by its 5 attempts, with
    // exponential backoff and jitter.
    let mut conf = aws_sdk_s3::config::Builder::from(&sdk).retry_partition(retry_partition());
    if let Some(e) = &o.endpoint {
        conf = conf.endpoint_url(e.clone());
    }
    if o.endpoint.is_some() || env_endpoint {
        // A custom endpoint (MinIO, moto, a VPC endpoint by IP) rarely serves virtual hosts.
        conf = conf.force_path_style(true);
    }
    Ok(Client::from_conf(conf.build()))
}

/// Scan every state-looking object under the URLs but those `exclude` matches (by the key
/// relative to the listed prefix, see [`input::key_relative_to`]; they are results marked
/// excluded, not fetched). Returns the per-object results (in listing order) and the errors not
/// tied to one object (connection, listing), with every registered credential masked in the
/// errors: S3, STS or a proxy may echo the request's token in its error text.
pub fn scan(
    urls: &[String],
    opts: &S3Options,
    exclude: &input::Exclude,
    engine: &Engine,
    fp_key: &[u8],
    jobs: usize,
    progress: &Progress,
) -> (Vec<FileResult>, Vec<String>) {
    let (mut results, mut errors) =
        scan_unmasked(urls, opts, exclude, engine, fp_key, jobs, progress);
    let mask = |e: &mut String| *e = crate::withheld(e).into_owned();
    results
        .iter_mut()
        .filter_map(|r| r.error.as_mut())
        .for_each(mask);
    errors.iter_mut().for_each(mask);
    (results, errors)
}

fn scan_unmasked(
    urls: &[String],
    opts: &S3Options,
    exclude: &input::Exclude,
    engine: &Engine,
    fp_key: &[u8],
    jobs: usize,
    progress: &Progress,
) -> (Vec<FileResult>, Vec<String>) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return (vec![], vec![format!("S3: cannot start the runtime: {e}")]),
    };
    let client = match rt.block_on(connect(opts)) {
        Ok(c) => c,
        Err(e) => return (vec![], vec![e]),
    };
    let concurrency = if opts.concurrency == 0 {
        DEFAULT_CONCURRENCY
    } else {
        opts.concurrency
    };
    let workers = jobs.max(1);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
    let rx = Mutex::new(rx);
    let results: Mutex<Vec<(usize, FileResult)>> = Mutex::new(Vec::new());
    let mut errors = Vec::new();

    let work = |engine: &Engine| loop {
        let job = rx.lock().expect("no panics while holding").blocking_recv();
        let Some(job) = job else { break };
        let rs = match job.data {
            Err(message) => vec![FileResult::failed(
                job.label.clone(),
                0,
                job.start.elapsed(),
                format!("{}: {message}", job.label),
            )],
            // Found by a listing: skipped with a note (a lifecycle rule that moves old versions
            // to Glacier would otherwise fail every `--all-versions` run). Named by its URL: an
            // error, as a file named on the command line that cannot be read is.
            Ok(Fetched::Archived) if job.listed => vec![FileResult::skipped(
                job.label.clone(),
                0,
                job.start.elapsed(),
                crate::audit::ARCHIVED_NOTE.to_string(),
            )],
            Ok(Fetched::Archived) => vec![FileResult::failed(
                job.label.clone(),
                0,
                job.start.elapsed(),
                format!(
                    "{}: archived in an S3 Glacier storage class (or an Intelligent-Tiering \
                     archive tier) and not restored: restore it (`aws s3api restore-object`) to \
                     audit it",
                    job.label
                ),
            )],
            Ok(Fetched::Memory(v)) => scan_bytes(
                engine,
                fp_key,
                job.label,
                &input::Bytes::Heap(v),
                1,
                job.start,
                job.listed,
            ),
            Ok(Fetched::Spilled(tmp)) => {
                match input::read(&Source::File(tmp.path().to_path_buf())) {
                    Ok(b) => scan_bytes(engine, fp_key, job.label, &b, 1, job.start, job.listed),
                    Err(_) => vec![FileResult::failed(
                        job.label.clone(),
                        0,
                        job.start.elapsed(),
                        format!("{}: cannot read back the temporary copy", job.label),
                    )],
                }
                // `tmp` is deleted here.
            }
        };
        let (bytes, found) = rs.iter().fold((0, 0), |(b, n), r| {
            (b + r.bytes as u64, n + r.findings.len() as u64)
        });
        progress.file_done(bytes, found);
        let mut held = results.lock().expect("no panics while holding");
        held.extend(rs.into_iter().map(|r| (job.index, r)));
    };

    std::thread::scope(|scope| {
        // Scanners on their own threads (this one drives the fetches: were it also a scanner,
        // a full set of permits held by unscanned objects would stall it).
        for _ in 0..workers {
            let forked = engine.fork();
            let work = &work;
            scope.spawn(move || work(&forked));
        }
        {
            let tx = tx;
            let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
            rt.block_on(async {
                let spill_dir = Arc::new(tokio::sync::OnceCell::new());
                let mut index = 0usize;
                let mut tasks = tokio::task::JoinSet::new();
                for url in urls {
                    let (bucket, prefix) = match parse_url(url) {
                        Ok(x) => x,
                        Err(e) => {
                            errors.push(e);
                            continue;
                        }
                    };
                    progress.listing_started();
                    let mut lister = Lister::new(&client, &bucket, &prefix, opts.all_versions);
                    loop {
                        let page = match lister.next_page().await {
                            Ok(Some(p)) => p,
                            Ok(None) => break,
                            Err(e) => {
                                errors.push(format!("{url}: listing failed: {e}"));
                                break;
                            }
                        };
                        // What a walk would read; of that, what --exclude leaves out is
                        // listed as such, not fetched. The object the URL names itself
                        // (`s3://b/envs/prod/network`: a backend `key` need not end in
                        // .tfstate) is read whatever its name and whatever --exclude says, as
                        // a file named on the command line is. A URL ending in `/` names a
                        // prefix only: an object of that very key is the zero-byte folder the
                        // S3 console's "Create folder" writes, left out as a walk would.
                        // Another URL of the run may name an object this listing covers (`s3://b/
                        // prod/` and `s3://b/prod/network`): that URL is not listed itself.
                        let names = |p: &str| !p.is_empty() && !p.ends_with('/');
                        let named = |o: &Object| {
                            (names(&prefix) && o.key == prefix)
                                || opts.named.iter().any(|u| {
                                    parse_url(u)
                                        .is_ok_and(|(b, p)| b == bucket && names(&p) && o.key == p)
                                })
                        };
                        let (page, left_out): (Vec<Object>, Vec<(Object, &str)>) = {
                            let mut read = Vec::new();
                            let mut left_out = Vec::new();
                            for o in page
                                .into_iter()
                                .filter(|o| named(o) || input::wanted_key(&o.key))
                            {
                                let rel = input::key_relative_to(&o.key, &prefix);
                                match exclude.matching_key(rel).filter(|_| !named(&o)) {
                                    Some(glob) => left_out.push((o, glob)),
                                    None => read.push(o),
                                }
                            }
                            (read, left_out)
                        };
                        {
                            let mut results = results.lock().expect("no panics while holding");
                            for (obj, glob) in left_out {
                                // An object, not a directory, even when a directory of its
                                // key matched: "not read".
                                let r = FileResult::excluded(obj.label(), glob, false);
                                results.push((index, r));
                                index += 1;
                            }
                        }
                        progress.add_total(page.len() as u64);
                        for obj in page {
                            let permit = sem
                                .clone()
                                .acquire_owned()
                                .await
                                .expect("the semaphore is never closed");
                            let (client, tx, spill_dir) =
                                (client.clone(), tx.clone(), spill_dir.clone());
                            let i = index;
                            index += 1;
                            let listed = !named(&obj);
                            tasks.spawn(async move {
                                let start = Instant::now();
                                let data = fetch(&client, &obj, &spill_dir).await;
                                let _ = tx.send(Job {
                                    index: i,
                                    label: obj.label(),
                                    start,
                                    data,
                                    listed,
                                    _permit: permit,
                                });
                            });
                            while tasks.try_join_next().is_some() {}
                        }
                    }
                    progress.listing_done();
                }
                while tasks.join_next().await.is_some() {}
            });
            // `tx` dropped: the workers stop when the queue is empty.
        }
    });
    let mut results = results.into_inner().expect("threads joined");
    results.sort_by_key(|(i, _)| *i);
    (results.into_iter().map(|(_, r)| r).collect(), errors)
}

/// Pages of objects (ListObjectsV2) or of versions (ListObjectVersions; delete markers skipped).
struct Lister<'a> {
    client: &'a Client,
    bucket: &'a str,
    prefix: &'a str,
    versions: bool,
    token: Option<String>,
    key_marker: Option<String>,
    version_marker: Option<String>,
    done: bool,
}

impl<'a> Lister<'a> {
    fn new(client: &'a Client, bucket: &'a str, prefix: &'a str, versions: bool) -> Self {
        Lister {
            client,
            bucket,
            prefix,
            versions,
            token: None,
            key_marker: None,
            version_marker: None,
            done: false,
        }
    }

    async fn next_page(&mut self) -> Result<Option<Vec<Object>>, String> {
        if self.done {
            return Ok(None);
        }
        let bucket = self.bucket.to_string();
        if self.versions {
            let out = self
                .client
                .list_object_versions()
                .bucket(self.bucket)
                .prefix(self.prefix)
                .set_key_marker(self.key_marker.take())
                .set_version_id_marker(self.version_marker.take())
                .send()
                .await
                .map_err(|e| sdk_error(&e))?;
            let objs = out
                .versions()
                .iter()
                .filter_map(|v| {
                    Some(Object {
                        bucket: bucket.clone(),
                        key: v.key()?.to_string(),
                        // "null" is a version too: the object as written before versioning
                        // was enabled, under the versions written since. Fetched by that id
                        // (GetObject takes `versionId=null`); without one S3 returns the
                        // current version instead.
                        version_id: v.version_id().map(str::to_string),
                        size: v.size().unwrap_or(0).max(0) as u64,
                    })
                })
                .collect();
            if out.is_truncated() == Some(true) && out.next_key_marker().is_some() {
                self.key_marker = out.next_key_marker().map(str::to_string);
                self.version_marker = out.next_version_id_marker().map(str::to_string);
            } else {
                self.done = true;
            }
            Ok(Some(objs))
        } else {
            let out = self
                .client
                .list_objects_v2()
                .bucket(self.bucket)
                .prefix(self.prefix)
                .set_continuation_token(self.token.take())
                .send()
                .await
                .map_err(|e| sdk_error(&e))?;
            let objs = out
                .contents()
                .iter()
                .filter_map(|o| {
                    Some(Object {
                        bucket: bucket.clone(),
                        key: o.key()?.to_string(),
                        version_id: None,
                        size: o.size().unwrap_or(0).max(0) as u64,
                    })
                })
                .collect();
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => self.token = Some(t.to_string()),
                _ => self.done = true,
            }
            Ok(Some(objs))
        }
    }
}

async fn fetch(
    client: &Client,
    obj: &Object,
    spill_dir: &tokio::sync::OnceCell<Result<PrivateDir, String>>,
) -> Result<Fetched, String> {
    let out = client
        .get_object()
        .bucket(&obj.bucket)
        .key(&obj.key)
        .set_version_id(obj.version_id.clone())
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(SdkError::ServiceError(e)) if e.err().code() == Some("InvalidObjectState") => {
            return Ok(Fetched::Archived)
        }
        Err(e) => return Err(sdk_error(&e)),
    };
    let len = out
        .content_length()
        .map(|n| n.max(0) as u64)
        .unwrap_or(obj.size);
    let mut body = out.body;
    if len <= IN_MEMORY_MAX {
        let mut v = Vec::with_capacity(len as usize);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| format!("reading the object: {}", error_chain(&e)))?;
            v.extend_from_slice(&chunk);
        }
        return Ok(Fetched::Memory(v));
    }
    // Too large for memory: into a 0600 file of a private 0700 directory made for this run,
    // removed on every way out, SIGINT and SIGTERM included (see `PrivateDir`).
    // tempfile's errors say what the OS said and the temporary path (`No space left on device
    // (os error 28) at path "/tmp/state-scrubber-s3-.../.tmpXXXX"`), never content: shown as
    // they are.
    let dir = spill_dir
        .get_or_init(|| async {
            PrivateDir::new("state-scrubber-s3-")
                .map_err(|e| format!("cannot create a temporary directory: {e}"))
        })
        .await
        .as_ref()
        .map_err(|e| e.clone())?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir.path())
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("reading the object: {}", error_chain(&e)))?;
        tmp.write_all(&chunk)
            .map_err(|e| format!("writing the temporary copy: {e}"))?;
    }
    tmp.flush()
        .map_err(|e| format!("writing the temporary copy: {e}"))?;
    Ok(Fetched::Spilled(tmp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("s3://b/p/q/").unwrap(),
            ("b".to_string(), "p/q/".to_string())
        );
        assert_eq!(
            parse_url("s3://b").unwrap(),
            ("b".to_string(), String::new())
        );
        assert!(parse_url("s3:///x").is_err());
        let o = Object {
            bucket: "b".into(),
            key: "k/terraform.tfstate".into(),
            version_id: Some("v1".into()),
            size: 1,
        };
        assert_eq!(o.label(), "s3://b/k/terraform.tfstate?versionId=v1");
        assert!(validate_endpoint("http://127.0.0.1:5000").is_ok());
        assert!(validate_endpoint("localhost:5000").is_err());
        let e = validate_endpoint("user:Pw-9vQx2@localhost:5000").unwrap_err();
        assert!(!e.contains("Pw-9vQx2"), "the endpoint's password was shown");
        assert!(e.starts_with("--endpoint: must be"));
    }

    /// Review finding: a listing that could not reach S3 printed `DisplayErrorContext`'s dump
    /// of the SDK's error (`DispatchFailure(DispatchFailure { source: ConnectorError { ...`).
    /// Now the causes by their `Display` only.
    #[test]
    fn an_unreachable_endpoint_is_said_without_a_debug_dump() {
        // A port nothing listens on: bind one, then let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let message = rt.block_on(async {
            let conf = aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(aws_sdk_s3::config::Credentials::for_tests())
                .endpoint_url(format!("http://127.0.0.1:{port}"))
                .force_path_style(true)
                .retry_config(RetryConfig::disabled())
                .build();
            let client = Client::from_conf(conf);
            let mut lister = Lister::new(&client, "tf-states", "envs/", false);
            lister.next_page().await.unwrap_err()
        });
        assert!(message.contains("dispatch failure"), "{message}");
        assert!(message.contains("onnection refused"), "{message}");
        for dump in ["DispatchFailure(", "ConnectorError {", "source:", "{ "] {
            assert!(!message.contains(dump), "{dump}: {message}");
        }
    }
}
