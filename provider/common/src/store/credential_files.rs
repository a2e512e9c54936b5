//! Credentials this process's AWS SDK reads from the environment and from files, registered with
//! [`crate::withheld`] so that no text shown carries them: the environment's keys and proxy
//! passwords, the secret keys, session tokens and `external_id`s of the
//! shared config and credentials files (every profile), the web identity token
//! (`AWS_WEB_IDENTITY_TOKEN_FILE`, a profile's `web_identity_token_file`), the container
//! credentials endpoint's authorization token (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), and the
//! tokens of the SSO and `aws login` caches. Some of them are sent only in a request body (the
//! web identity JWT in AssumeRoleWithWebIdentity's form, SSO OIDC's refresh token and client
//! secret), where [`super::aws::observe_credentials`]'s observer never sees them: a service or
//! proxy echoing that body in its error would show them. Used by the provider (at
//! ConfigureProvider) and by state-scrubber (first thing in `main`).

use std::path::{Path, PathBuf};

/// Registers (with [`crate::withheld::withhold`]) the environment's secret key and tokens
/// (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_SECURITY_TOKEN`,
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`), the password of a proxy URL in `HTTPS_PROXY`,
/// `HTTP_PROXY` or `ALL_PROXY` (either case; as written and percent-decoded), `external_id` (an
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
    // A proxy URL's password, as written (percent-encoded) and as sent (decoded).
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        if let Some(password) = std::env::var(var).ok().as_deref().and_then(proxy_password) {
            withhold(password);
            withhold(&percent_decode(password));
        }
    }
    if let Some(id) = external_id {
        withhold(id);
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
        .filter_map(|line| {
            let (key, value) = without_comment(line.trim_start()).split_once('=')?;
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "aws_secret_access_key"
                | "aws_session_token"
                | "aws_security_token"
                | "external_id" => Some(value.to_owned()),
                // A profile's web identity (EKS, CI runners): the SDK sends the file's JWT in
                // the form body of AssumeRoleWithWebIdentity, as for AWS_WEB_IDENTITY_TOKEN_FILE.
                "web_identity_token_file" if !value.is_empty() => {
                    small_file(std::ffi::OsStr::new(value)).map(|t| t.trim().to_owned())
                }
                _ => None,
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
