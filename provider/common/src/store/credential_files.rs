//! Credentials this process's AWS SDK reads from the environment and from files, registered with
//! [`crate::withheld`] so that no text shown carries them: the environment's keys and proxy
//! passwords, the secret keys, session tokens and `external_id`s of the
//! shared config and credentials files (every profile), the web identity token
//! (`AWS_WEB_IDENTITY_TOKEN_FILE`, a profile's `web_identity_token_file`), the container
//! credentials endpoint's authorization token (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), and the
//! tokens of the SSO and `aws login` caches, and a proxy's `Proxy-Authorization` value. Some of
//! them are sent only in a request body, which a service or proxy echoing it in its error would
//! show: the web identity JWT of AssumeRoleWithWebIdentity's form body and SSO OIDC's refresh
//! token and client secret in CreateToken's JSON body are also taken from each request as it is
//! sent ([`super::aws::observing_http_client`]), since the token file is rotated and the refresh
//! token renewed after this ran. (The SDK built here never sends `aws login`'s refresh token:
//! aws-config's `credentials-login` feature is off.) Used by the provider (at ConfigureProvider)
//! and by state-scrubber (when it makes an AWS client).

use std::path::{Path, PathBuf};

/// Registers (with [`crate::withheld::withhold`]) the environment's secret key and tokens
/// (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_SECURITY_TOKEN`,
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`), the password of a proxy URL in `HTTPS_PROXY`,
/// `HTTP_PROXY` or `ALL_PROXY` (either case; as written and percent-decoded) and the credentials
/// of the `Proxy-Authorization: Basic` header sent to it, `external_id` (an
/// `assume_role.external_id`, sent in STS's form body) and every credential found in the files
/// the SDK reads:
/// `config_files` and `credentials_files` (the provider's `shared_config_files` /
/// `shared_credentials_files`; when empty, `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`,
/// else `~/.aws/config` / `~/.aws/credentials`), every profile of them (so whichever
/// `AWS_PROFILE` or `profile` selects), the token files named by `AWS_WEB_IDENTITY_TOKEN_FILE`
/// and `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, and the SSO and `aws login` token caches.
/// A file that cannot be read registers nothing (the SDK reports it, if it needs it).
pub fn withhold(
    config_files: &[PathBuf],
    credentials_files: &[PathBuf],
    external_id: Option<&str>,
) {
    use crate::withheld::withhold;
    for var in [
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ] {
        if let Ok(v) = std::env::var(var) {
            withhold(&v);
        }
    }
    // A proxy URL's password, as written (percent-encoded) and as decoded, and the
    // `Proxy-Authorization` header value the SDK's HTTP client sends the proxy (base64 of
    // `user:password`), which a proxy echoing the request would show.
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        let Ok(url) = std::env::var(var) else {
            continue;
        };
        if let Some(password) = proxy_password(&url) {
            withhold(password);
            withhold(&percent_decode(password));
        }
        if let Some(credentials) = proxy_basic_credentials(&url) {
            withhold(&credentials);
        }
    }
    if let Some(id) = external_id {
        withhold(id);
    }
    // Endpoint URLs aws-config reads (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`) may
    // carry a password as a proxy URL does.
    for (var, url) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("AWS_ENDPOINT_URL") {
            withhold_url_credentials(&url.to_string_lossy());
        }
    }
    // Tokens kept in files (web identity for IRSA / GitHub OIDC, the container credentials
    // endpoint's authorization token).
    for var in [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ] {
        if let Some(token) = std::env::var_os(var).and_then(|path| small_file(&path)) {
            withhold(token.trim());
        }
    }
    // Tokens the SDK reads from its caches and sends on: SSO's access token (the
    // `x-amz-sso_bearer_token` header of GetRoleCredentials), its refresh token and client
    // secret (the body of SSO OIDC's CreateToken), `aws login`'s refresh token and keys.
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let login_cache = std::env::var_os("AWS_LOGIN_CACHE_DIRECTORY")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/login/cache")));
    for dir in [home.map(|h| h.join(".aws/sso/cache")), login_cache]
        .into_iter()
        .flatten()
    {
        for token in cached_tokens(&dir) {
            withhold(&token);
        }
    }
    for (configured, var, default) in [
        (config_files, "AWS_CONFIG_FILE", ".aws/config"),
        (
            credentials_files,
            "AWS_SHARED_CREDENTIALS_FILE",
            ".aws/credentials",
        ),
    ] {
        let mut files = configured.to_vec();
        if files.is_empty() {
            let home = std::env::var_os("HOME");
            files.extend(
                std::env::var_os(var)
                    .filter(|v| !v.is_empty())
                    .map(|v| expand_home(Path::new(&v), home.as_deref()))
                    .or_else(|| home.map(|h| Path::new(&h).join(default))),
            );
        }
        for file in files {
            for secret in file_credentials(&file) {
                withhold(&secret);
            }
        }
    }
}

/// Registers the password of a URL written with one (`https://user:pw@host/`): an `endpoint` or
/// an `AWS_ENDPOINT_URL*` value, which error texts and log lines quote (a connect error names
/// the URL it could not reach), as written and percent-decoded, and the
/// `Authorization: Basic` value made of its `user:password`, which a server echoing the request
/// would show. Nothing for a URL without a password.
pub fn withhold_url_credentials(url: &str) {
    for secret in url_credentials(url) {
        crate::withheld::withhold(&secret);
    }
}

/// What [`withhold_url_credentials`] registers for `url`: its password as written and
/// percent-decoded and its `Authorization: Basic` value; nothing without a password.
fn url_credentials(url: &str) -> Vec<String> {
    let Some(password) = proxy_password(url) else {
        return Vec::new();
    };
    let mut out = vec![password.to_owned(), percent_decode(password)];
    out.extend(proxy_basic_credentials(url));
    out
}

/// `path` as the SDK reads `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`: a leading `~`
/// component is the home directory (`~/ci/config` is `$HOME/ci/config`; `~user/..` is left as
/// it is), so a value written in quotes, which no shell expanded, names the file the SDK reads.
fn expand_home(path: &Path, home: Option<&std::ffi::OsStr>) -> PathBuf {
    let mut components = path.components();
    match (components.next(), home) {
        (Some(std::path::Component::Normal(first)), Some(home)) if first == "~" => {
            Path::new(home).join(components.as_path())
        }
        _ => path.to_path_buf(),
    }
}

/// The secret values of a shared config or credentials file (`aws_secret_access_key`,
/// `aws_session_token`, `external_id` of any profile, and the JWT in the file a
/// `web_identity_token_file` names); nothing when it cannot be read. The SDK
/// reads the same files for the credentials it signs with, and as it does: a `#` or `;` after
/// whitespace starts a comment (`external_id = abc # prod` sends `abc`).
fn file_credentials(path: &Path) -> Vec<String> {
    let Some(text) = small_file(path.as_os_str()) else {
        return Vec::new();
    };
    text.lines()
        .flat_map(|line| {
            let Some((key, value)) = without_comment(line.trim_start()).split_once('=') else {
                return Vec::new();
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "aws_secret_access_key"
                | "aws_session_token"
                | "aws_security_token"
                | "external_id" => vec![value.to_owned()],
                // A profile's web identity (EKS, CI runners): the SDK sends the file's JWT in
                // the form body of AssumeRoleWithWebIdentity, as for AWS_WEB_IDENTITY_TOKEN_FILE.
                "web_identity_token_file" if !value.is_empty() => {
                    small_file(std::ffi::OsStr::new(value))
                        .map(|t| t.trim().to_owned())
                        .into_iter()
                        .collect()
                }
                // A profile's (or a `[services]` section's) endpoint written with a password
                // (`https://user:pw@host/`), which a connect error quotes, as for
                // `AWS_ENDPOINT_URL*` ([`withhold_url_credentials`]).
                "endpoint_url" => url_credentials(value),
                _ => Vec::new(),
            }
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// `line` up to a trailing comment, as aws-runtime's profile parser reads a property line: a `#`
/// or `;` preceded by whitespace starts one (`token;e` is a value, `abc ;x` is `abc`).
fn without_comment(line: &str) -> &str {
    let mut after_whitespace = false;
    for (i, c) in line.char_indices() {
        if after_whitespace && (c == '#' || c == ';') {
            return &line[..i];
        }
        after_whitespace = c.is_whitespace();
    }
    line
}

/// The tokens and keys in the JSON files of an SDK token cache (`~/.aws/sso/cache`,
/// `~/.aws/login/cache`): every string under a key named `accessToken`, `refreshToken`,
/// `clientSecret`, `secretAccessKey` or `sessionToken`, at any depth (`aws login`'s
/// `accessToken` is an object: only its key and token are taken, not its key id or account id,
/// which would mask every mention of the account). At most 64 files are
/// read, the most recently modified first (a cache folder keeps the files of every session ever
/// opened; the SDK's is the one refreshed last); nothing when the folder cannot be read.
fn cached_tokens(dir: &Path) -> Vec<String> {
    fn walk(v: &serde_json::Value, secret_key: bool, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if secret_key => out.push(s.clone()),
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let secret = [
                        "accesstoken",
                        "refreshtoken",
                        "clientsecret",
                        "secretaccesskey",
                        "sessiontoken",
                    ]
                    .contains(&k.to_ascii_lowercase().as_str());
                    walk(v, secret, out);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, false, out);
                }
            }
            _ => {}
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (modified, e.path())
        })
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    let mut out = Vec::new();
    for (_, path) in files.into_iter().take(64) {
        if let Some(json) = small_file(path.as_os_str())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        {
            walk(&json, false, &mut out);
        }
    }
    out
}

/// The first MiB of a text file; `None` when it cannot be read.
fn small_file(path: &std::ffi::OsStr) -> Option<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(1 << 20).read_to_string(&mut text))
        .ok()?;
    Some(text)
}

/// The password of a proxy URL (`http://user:PASSWORD@host:port`), as written.
fn proxy_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// The credentials of the `Proxy-Authorization: Basic ...` header the SDK's HTTP client sends a
/// proxy set as `url` (with a user name), as hyper-util 0.1's proxy matcher makes them from an
/// `HTTP(S)_PROXY` / `ALL_PROXY` value: the userinfo is what comes before the first `@` of the
/// authority, the user name what comes before its first `:`, both percent-decoded (invalid
/// UTF-8 replaced), and `user:password` (`user:` without a password) in standard base64 with
/// padding. aws-smithy-http-client adds it to a plain-HTTP request through the proxy and sends it
/// in the `CONNECT` of a tunnel. `None` without a user name; computed for a SOCKS URL too
/// (which the SDK cannot use: no harm in masking).
fn proxy_basic_credentials(url: &str) -> Option<String> {
    use base64::Engine as _;
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.split_once('@')?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let plain = format!("{}:{}", percent_decode(user), percent_decode(password));
    Some(base64::engine::general_purpose::STANDARD.encode(plain))
}

/// `%XX` sequences decoded (a proxy password is written percent-encoded in the URL and sent
/// decoded); anything undecodable is kept as it is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endpoint URL with a password (`endpoint = "https://ci:pw@vpce.example/"`) was not
    /// registered: a message quoting the URL showed it. Its password, as written and decoded, and
    /// the Basic credentials made of it are masked; a URL without one registers nothing.
    #[test]
    fn an_endpoint_urls_password_is_withheld() {
        use crate::withheld::{scrub, MASK};
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.subsec_nanos());
        let password = format!("ep-{nanos:09}%40pw");
        let url = format!("https://ci-user:{password}@vpce-1.example.com:4566/");
        withhold_url_credentials(&url);
        let decoded = percent_decode(&password);
        let basic = proxy_basic_credentials(&url).unwrap_or_default();
        for (i, text) in [
            format!("dispatch failure: error trying to connect: {url}"),
            format!("password {decoded} refused"),
            format!("Authorization: Basic {basic}"),
        ]
        .iter()
        .enumerate()
        {
            let out = scrub(text);
            let shown = out.contains(&password) || out.contains(&decoded) || out.contains(&basic);
            assert!(!shown && out.contains(MASK), "case {i}: not masked");
        }
        withhold_url_credentials("https://vpce-2.example.com/");
        assert!(scrub("https://vpce-2.example.com/") == "https://vpce-2.example.com/");
    }

    #[test]
    fn proxy_passwords_are_found_as_written_and_decoded() {
        for (url, want) in [
            (
                "http://user:s3cr%40t-pass@proxy:3128",
                Some("s3cr%40t-pass"),
            ),
            ("http://user:p@ss@proxy:3128/", Some("p@ss")),
            ("user:pw-no-scheme@proxy:3128", Some("pw-no-scheme")),
            ("http://user@proxy:3128", None),
            ("http://user:@proxy:3128", None),
            ("http://proxy:3128", None),
            ("http://proxy:3128/a@b:c", None),
            ("", None),
        ] {
            assert_eq!(proxy_password(url), want, "{url}");
        }
        assert_eq!(percent_decode("s3cr%40t-pass"), "s3cr@t-pass");
        assert_eq!(percent_decode("100%-%zz%4"), "100%-%zz%4");
    }

    /// What is registered for a proxy URL is the `Proxy-Authorization` value hyper-util's
    /// matcher (the SDK's HTTP client's, through `ProxyConfig::from_env`) makes from it.
    #[test]
    fn proxy_basic_credentials_are_what_hyper_util_sends() {
        use hyper_util::client::proxy::matcher::Matcher;
        let dst = "https://secretsmanager.eu-west-1.amazonaws.com/"
            .parse()
            .unwrap();
        for url in [
            "http://user:cnry-proxy-pw-1a2b3c@proxy:3128",
            "https://user:cnry-proxy-pw-1a2b3c@proxy:3128/",
            "HTTP://svc-user:s3cr%40t%2Fpass@proxy:3128",
            "user:pw-no-scheme@proxy:3128",
            "http://us%3Aer:p:w:x@proxy:3128",
            "http://u:p@x@proxy:3128",
            "http://token-as-user-name-1a2b@proxy:3128",
            "http://user:@proxy:3128",
            "http://@proxy:3128",
            "http://user:%ff%fe-not-utf8@proxy:3128",
            "http://user:pass%zz@proxy:3128",
            "http://user:p%20w@proxy:3128?x#y",
            "http://proxy:3128",
            "http://proxy:3128/a@b:c",
        ] {
            let intercept = Matcher::builder().all(url).build().intercept(&dst);
            let sent = intercept
                .as_ref()
                .and_then(|i| i.basic_auth())
                .map(|h| h.to_str().unwrap().to_owned());
            let ours = proxy_basic_credentials(url).map(|c| format!("Basic {c}"));
            // A URL hyper-util cannot read sends nothing: registering its would-be header is
            // harmless, missing a header it sends is not.
            if intercept.is_some() {
                assert_eq!(ours, sent, "{url}");
            }
        }
        assert_eq!(
            proxy_basic_credentials("http://Aladdin:opensesame@localhost:8887").as_deref(),
            Some("QWxhZGRpbjpvcGVuc2VzYW1l")
        );
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory_as_the_sdk_reads_it() {
        let home = Some(std::ffi::OsStr::new("/home/ci"));
        for (path, want) in [
            ("~/ci/config", "/home/ci/ci/config"),
            ("~", "/home/ci"),
            ("/etc/aws/config", "/etc/aws/config"),
            ("relative/~/config", "relative/~/config"),
            ("~user/config", "~user/config"),
        ] {
            assert_eq!(
                expand_home(Path::new(path), home),
                Path::new(want),
                "{path}"
            );
        }
        // No home: left as it is (the SDK reads "~/..." then, which is not there either).
        assert_eq!(expand_home(Path::new("~/c"), None), Path::new("~/c"));
    }

    #[test]
    fn cached_tokens_are_the_secrets_of_every_cache_file() {
        let dir = std::env::temp_dir().join(format!(
            "offstate-common-token-cache-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("sso.json"),
            r#"{"startUrl":"https://x.awsapps.com/start","region":"eu-west-1","accessToken":"sso-access",
               "expiresAt":"2099-01-01T00:00:00Z","clientId":"cid","clientSecret":"sso-client-secret",
               "refreshToken":"sso-refresh"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("login.json"),
            r#"{"accessToken":{"accessKeyId":"AKID","secretAccessKey":"login-key","sessionToken":"login-token",
               "accountId":"123456789012"},"refreshToken":"login-refresh","dpopKey":"k"}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), r#"{"accessToken":"not-json-file"}"#).unwrap();
        // Old sessions' files (more than are read) must not hide the one in use, written last.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(86400);
        for i in 0..600 {
            let path = dir.join(format!("old-{i:03}.json"));
            std::fs::write(&path, r#"{"startUrl":"https://old.example"}"#).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(old))
                .unwrap();
        }
        std::fs::write(dir.join("broken.json"), "{not json").unwrap();
        let mut got = cached_tokens(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        got.sort();
        assert_eq!(
            got,
            [
                "login-key",
                "login-refresh",
                "login-token",
                "sso-access",
                "sso-client-secret",
                "sso-refresh"
            ]
        );
        assert!(cached_tokens(&dir).is_empty());
    }

    /// A profile's `endpoint_url` (or a `[services]` section's) written with a password was not
    /// registered, though the same URL in `AWS_ENDPOINT_URL` was: a connect error quoting it
    /// showed the password. Its password as written and decoded and its Basic credentials are
    /// taken from the file; an `endpoint_url` without one gives nothing.
    #[test]
    fn a_profiles_endpoint_url_password_is_a_file_credential() {
        let dir = std::env::temp_dir().join(format!(
            "offstate-common-endpoint-url-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config");
        std::fs::write(
            &file,
            "[profile a]\nendpoint_url = https://ci:pw%40a@vpce.example.com/ # the VPC endpoint\n\
             services = s\n[services s]\nsecretsmanager =\n  endpoint_url = http://u:pw-s@127.0.0.1:4566\n\
             [profile b]\nendpoint_url = https://vpce.example.com/\n",
        )
        .unwrap();
        let got = file_credentials(&file);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            got,
            [
                "pw%40a".to_owned(),
                "pw@a".to_owned(),
                proxy_basic_credentials("https://ci:pw%40a@h").unwrap(),
                "pw-s".to_owned(),
                "pw-s".to_owned(),
                proxy_basic_credentials("http://u:pw-s@h").unwrap(),
            ]
        );
    }

    #[test]
    fn file_credentials_are_the_secret_values_of_every_profile() {
        let dir = std::env::temp_dir().join(format!(
            "offstate-common-credential-files-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        let token = dir.join("token");
        std::fs::write(&token, "jwt-c\n").unwrap();
        std::fs::write(
            &file,
            format!("[a]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = key-a\n\
             [profile b]\n  AWS_Session_Token=token-b  \nexternal_id = ext-b\nregion = eu-west-1\naws_secret_access_key =\n\
             [profile c]\nrole_arn = arn:aws:iam::123456789012:role/c\nweb_identity_token_file = {}\n\
             [profile d]\nweb_identity_token_file = {}\n\
             [profile e] ; comments, as the SDK strips them (after whitespace only)\n\
             external_id = ext-e # production\nweb_identity_token_file = {}\t; the CI runner's\n\
             aws_session_token = token;e #x\n",
             token.display(), dir.join("no-token").display(), token.display()),
        )
        .unwrap();
        let got = file_credentials(&file);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            got,
            ["key-a", "token-b", "ext-b", "jwt-c", "ext-e", "jwt-c", "token;e"]
        );
        assert!(file_credentials(&dir.join("missing")).is_empty());
    }
}
