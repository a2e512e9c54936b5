//! Environment variables and shared-config profile settings the AWS SDK reads but would ignore
//! or cannot use (a proxy URL it drops, a `NO_PROXY` entry that matches nothing, a FIPS or
//! dual-stack switch that is not a boolean), found before connecting.

use thiserror::Error;

/// An environment variable the AWS SDK reads but would ignore, or cannot use, named with what it
/// accepts. Its value is never shown: a proxy URL may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{variable} {problem}")]
pub struct EnvProblem {
    /// The variable, spelled as it is set (`HTTPS_PROXY` or `https_proxy`).
    pub variable: &'static str,
    /// What is wrong and what is accepted.
    pub problem: String,
    /// Only worth a warning: `NO_PROXY` entries the SDK cannot match (`*.corp`, `host:443`) are
    /// common where Go tools, Terraform among them, read the same environment and match them;
    /// an empty FIPS / dual-stack switch, or an empty `HTTPS_PROXY` hiding `https_proxy`, is what
    /// CI systems export for an unset input.
    /// The provider goes on (those hosts go through the proxy); a proxy URL or switch the SDK
    /// would drop is an error, as it would connect otherwise than asked.
    pub warning: bool,
}

const PROXY_FORM: &str = "write it as http://[user:password@]host:port (or https:// for a proxy reached over TLS). Its value is not shown: it may hold a password";

/// What is wrong with a proxy URL, as the SDK's HTTP client (hyper-util's proxy matcher, which
/// `aws-smithy-http-client` uses for `ProxyConfig::from_env`) would read it: `http`, `https` or
/// no scheme (taken as `http`), the `http` crate's URI syntax, a host; a value it cannot read is
/// silently dropped (requests go direct, or through `ALL_PROXY`'s proxy where that one is
/// usable: `fallback` names it then), a host-less `:port` is kept and cannot be connected to,
/// and a SOCKS proxy is accepted by the matcher but cannot be connected through by the SDK's
/// connector. Never quotes the value.
fn proxy_url_problem(value: &str, fallback: Option<&str>) -> Option<String> {
    use aws_smithy_http_client::proxy::ProxyConfig;
    let scheme = value
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    // hyper-util strips the userinfo and keeps host and port: both must be there.
    let host_port = |rest: &str| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        authority
            .split_once('@')
            .map_or(authority, |(_, h)| h)
            .to_owned()
    };
    let has_host = |rest: &str| {
        let host_port = host_port(rest);
        !host_port.is_empty() && !host_port.starts_with(':')
    };
    let ignored = match fallback {
        Some(all) => format!(
            "so the AWS SDK would ignore it and send those requests through the proxy in {all} instead"
        ),
        None => "so the AWS SDK would ignore it and send requests without the proxy".to_owned(),
    };
    // `[user:password@]:port`, which the matcher reads as a proxy without a host (kept, not
    // dropped: requests fail to connect, and ALL_PROXY is not used in its place).
    let unreadable = |rest: &str| {
        if host_port(rest).starts_with(':') && ProxyConfig::http(format!("http://{rest}")).is_ok() {
            format!(
                "names no proxy host, so the AWS SDK's requests could not connect; {PROXY_FORM}"
            )
        } else {
            format!("is not a URL the AWS SDK's HTTP client can read, {ignored}; {PROXY_FORM}")
        }
    };
    match scheme.as_deref() {
        Some("http" | "https") => {
            let rest = value.split_once("://").map_or("", |(_, rest)| rest);
            (ProxyConfig::http(value).is_err() || !has_host(rest)).then(|| unreadable(rest))
        }
        Some(s) if s.starts_with("socks") => {
            // The matcher keeps the four schemes it knows, spelled in lower case, and drops any
            // other (`SOCKS5://`, `socks://`) as it drops `ftp://`.
            let (written, rest) = value.split_once("://").unwrap_or_default();
            let kept = matches!(written, "socks4" | "socks4a" | "socks5" | "socks5h")
                && ProxyConfig::http(format!("http://{rest}")).is_ok();
            Some(if kept {
                format!("names a SOCKS proxy, which the AWS SDK's HTTP client cannot connect through; use an HTTP proxy: {PROXY_FORM}")
            } else {
                format!("names a SOCKS proxy, which the AWS SDK's HTTP client cannot use, {ignored}; use an HTTP proxy: {PROXY_FORM}")
            })
        }
        Some(_) => Some(format!(
            "has a scheme other than http:// or https://, {ignored}; {PROXY_FORM}"
        )),
        // No scheme: the whole value must be an authority (host:port), read as http://.
        None => (value.contains(['/', '?', '#'])
            || !has_host(value)
            || ProxyConfig::http(format!("http://{value}")).is_err())
        .then(|| unreadable(value)),
    }
}

/// What is wrong with a `NO_PROXY` list as hyper-util reads it: comma-separated entries, each an
/// IP address, an IP network (`10.0.0.0/8`), a domain (`example.com` or `.example.com`, which
/// also match subdomains) or `*`. Anything else (a URL, a port, a `*.` wildcard, brackets) is
/// taken as a domain name no host has, so the hosts it meant still go through the proxy. The
/// first such entry is quoted unless it holds an `@` (a URL's user and password).
fn no_proxy_problem(list: &str) -> Option<String> {
    let accepted = "entries are host names, .domains (a domain and its subdomains), IP addresses and networks (10.0.0.0/8), or * alone, separated by commas";
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "*" || entry.parse::<std::net::IpAddr>().is_ok() || is_ip_network(entry) {
            continue;
        }
        let unmatched =
            "would match no host, so the hosts it was meant for would still go through the proxy";
        let why = if entry.contains('@') {
            return Some(format!(
                "has an entry with a user name (@), which {unmatched}; {accepted}. The entry is not shown: it may hold a password"
            ));
        } else if entry.contains("://") {
            "is a URL: write the host name only"
        } else if entry.contains('*') {
            "has a wildcard: write .example.com for a domain and its subdomains"
        } else if entry.contains('/') {
            "is neither an IP network (address/prefix length) nor a host name"
        } else if entry.contains(['[', ']']) || entry.matches(':').count() > 1 {
            "is not an IP address: write IPv6 addresses without brackets or port"
        } else if entry.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            // Taken as a domain name, which an address never matches.
            "is not an IP address: write all four parts, without leading zeros, or a network such as 10.0.0.0/8"
        } else if entry.contains(':') {
            "has a port: write the host only"
        } else if !entry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            "is not a host name"
        } else {
            continue;
        };
        return Some(format!("entry {entry:?} {unmatched} ({why}); {accepted}"));
    }
    None
}

/// `addr/len` as hyper-util reads an IP network (the `ipnet` crate's parser): the prefix length
/// in decimal digits only (at most 2 for IPv4, 3 for IPv6) that fits the address; an IPv4
/// address of four decimal octets of up to 3 digits each (`010.0.0.0/8` is `10.0.0.0/8`,
/// although `010.0.0.1` alone is no address).
fn is_ip_network(entry: &str) -> bool {
    let Some((addr, len)) = entry.split_once('/') else {
        return false;
    };
    let digits =
        |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let v4 = addr.split('.').count() == 4
        && addr
            .split('.')
            .all(|octet| digits(octet, 3) && octet.parse::<u16>().is_ok_and(|n| n < 256));
    if v4 {
        digits(len, 2) && len.parse::<u8>().is_ok_and(|n| n <= 32)
    } else {
        addr.parse::<std::net::Ipv6Addr>().is_ok()
            && digits(len, 3)
            && len.parse::<u8>().is_ok_and(|n| n <= 128)
    }
}

/// The environment variables the AWS SDK reads for this configuration that it would ignore or
/// cannot use, from `var` (`std::env::var(..).ok()` outside tests). Each would otherwise change
/// nothing, silently: a proxy not used, an endpoint that is not FIPS.
///
/// - Proxies, read as `aws-smithy-http-client` 1.5's `ProxyConfig::from_env` (hyper-util's
///   matcher) reads them: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` (used where one of the first
///   two is unset), each before its lower-case spelling, the first one set winning even when
///   empty (an empty upper-case one hiding a lower-case one that is not is a warning: Go's
///   client, Terraform's, reads the first one not empty); none of them when `REQUEST_METHOD` is
///   set (a CGI process), so there any proxy set is an error (Terraform's Go client still uses
///   `HTTPS_PROXY` there). `NO_PROXY` / `no_proxy` matters only when a proxy is in use.
/// - `AWS_USE_FIPS_ENDPOINT` (unless `use_fips_endpoint` is configured) and
///   `AWS_USE_DUALSTACK_ENDPOINT`: `true` or `false` in any case. The SDK drops any other value
///   with a warning, and the profile's setting with it; an empty value too (aws-config reads a
///   set variable, empty or not, before the profile, and `""` is not a boolean), which is only a
///   warning ([`EnvProblem::warning`]): CI systems export unset inputs as empty variables.
pub fn environment_problems(
    fips_configured: bool,
    var: impl Fn(&str) -> Option<String>,
) -> Vec<EnvProblem> {
    let mut problems = Vec::new();
    let first_set = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|name| var(name).map(|value| (name, value)))
    };
    // The upper-case spelling set but empty hides a lower-case one that is not: hyper-util reads
    // the first one set, Go (Terraform, other tools) the first one not empty.
    let hidden = |names: [&'static str; 2], effect: &str| {
        (var(names[0]).is_some_and(|v| v.is_empty())
            && var(names[1]).is_some_and(|v| !v.is_empty()))
        .then(|| EnvProblem {
            variable: names[0],
            warning: true,
            problem: format!(
                "is set but empty, which hides {} from the AWS SDK's HTTP client (it reads the first of the two that is set; Terraform itself reads the first that is not empty), so {effect}; unset {} or set it as {} is",
                names[1], names[0], names[1]
            ),
        })
    };
    if var("REQUEST_METHOD").is_some() {
        // hyper-util reads no proxy at all in a CGI process (Go's net/http, Terraform's, drops
        // only HTTP_PROXY there): a proxy set for the SDK would be bypassed.
        for names in [
            ["HTTP_PROXY", "http_proxy"],
            ["HTTPS_PROXY", "https_proxy"],
            ["ALL_PROXY", "all_proxy"],
        ] {
            let not_empty = names
                .into_iter()
                .find(|name| var(name).is_some_and(|v| !v.is_empty()));
            if let Some(variable) = not_empty {
                problems.push(EnvProblem {
                    variable,
                    warning: false,
                    problem: "is ignored by the AWS SDK's HTTP client because REQUEST_METHOD is set (it takes the process for a CGI script), so requests would go without the proxy; unset REQUEST_METHOD".to_owned(),
                });
            }
        }
    } else {
        // ALL_PROXY's proxy, where it is usable, is what the client uses in place of an
        // HTTP(S)_PROXY it drops (unset, empty or unreadable): the errors about those say so.
        let all = first_set(["ALL_PROXY", "all_proxy"]).filter(|(_, v)| !v.is_empty());
        let all_usable = all
            .as_ref()
            .filter(|(_, value)| proxy_url_problem(value, None).is_none())
            .map(|(variable, _)| *variable);
        let hidden_effect = match all_usable {
            Some(all) => format!("requests would go through the proxy in {all} instead"),
            None => "requests would go without that proxy".to_owned(),
        };
        let mut usable = [false; 2];
        for (i, names) in [["HTTP_PROXY", "http_proxy"], ["HTTPS_PROXY", "https_proxy"]]
            .into_iter()
            .enumerate()
        {
            problems.extend(hidden(names, &hidden_effect));
            if let Some((variable, value)) = first_set(names).filter(|(_, v)| !v.is_empty()) {
                match proxy_url_problem(&value, all_usable) {
                    None => usable[i] = true,
                    Some(problem) => problems.push(EnvProblem {
                        variable,
                        problem,
                        warning: false,
                    }),
                }
            }
        }
        if !usable.iter().all(|u| *u) {
            problems.extend(hidden(
                ["ALL_PROXY", "all_proxy"],
                "requests would go without that proxy",
            ));
            if let Some((variable, value)) = all {
                match proxy_url_problem(&value, None) {
                    None => usable = [true; 2],
                    Some(problem) => problems.push(EnvProblem {
                        variable,
                        problem,
                        warning: false,
                    }),
                }
            }
        }
        if usable.iter().any(|u| *u) {
            problems.extend(hidden(
                ["NO_PROXY", "no_proxy"],
                "the hosts it lists would go through the proxy",
            ));
            if let Some((variable, problem)) = first_set(["NO_PROXY", "no_proxy"])
                .and_then(|(variable, list)| Some((variable, no_proxy_problem(&list)?)))
            {
                problems.push(EnvProblem {
                    variable,
                    problem,
                    warning: true,
                });
            }
        }
    }
    for (variable, skip) in [
        ("AWS_USE_FIPS_ENDPOINT", fips_configured),
        ("AWS_USE_DUALSTACK_ENDPOINT", false),
    ] {
        let Some(value) = var(variable) else {
            continue;
        };
        if !skip && !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
            // Empty is a warning: CI systems export unset inputs as empty variables, and without
            // a profile setting the SDK's result is that of an unset one.
            let (what, warning) = if value.is_empty() {
                ("is set but empty, which the AWS SDK does not read as unset: it ignores it, and the profile's setting (use_fips_endpoint / use_dualstack_endpoint) with it", true)
            } else {
                ("is neither true nor false, so the AWS SDK would ignore it (and the profile's setting with it)", false)
            };
            problems.push(EnvProblem {
                variable,
                warning,
                problem: format!("{what}; set it to true or false, or unset it"),
            });
        }
    }
    problems
}

/// A setting of the selected shared config profile that the AWS SDK reads but would ignore,
/// named with what it accepts. Its value is not shown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{setting} in profile {profile:?} of the shared config files {problem}")]
pub struct ProfileProblem {
    /// The setting (`use_fips_endpoint`, `use_dualstack_endpoint`).
    pub setting: &'static str,
    /// The selected profile.
    pub profile: String,
    /// What is wrong and what is accepted.
    pub problem: String,
}

/// The FIPS and dual-stack switches of the selected profile of `profiles` that the AWS SDK would
/// ignore: `use_fips_endpoint` (unless `use_fips_endpoint` is configured, which aws-config then
/// never reads) and `use_dualstack_endpoint`, each only where its environment variable
/// (`AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`) is unset, from `var`: a set
/// variable, empty or not, is read instead (and judged by [`environment_problems`]).
/// aws-config 1.x reads the profile's value as it reads the variable's, `true` or `false` in any
/// case, and drops any other with a warning in the log only (`invalid value for FIPS setting`),
/// so `use_fips_endpoint = yes` connected to the regular endpoint. An empty value is not a
/// problem: it asks for nothing, and the SDK's result is that of no setting.
pub fn profile_problems(
    profiles: &aws_config::profile::ProfileSet,
    fips_configured: bool,
    var: impl Fn(&str) -> Option<String>,
) -> Vec<ProfileProblem> {
    let mut problems = Vec::new();
    for (setting, variable, skip) in [
        (
            "use_fips_endpoint",
            "AWS_USE_FIPS_ENDPOINT",
            fips_configured,
        ),
        (
            "use_dualstack_endpoint",
            "AWS_USE_DUALSTACK_ENDPOINT",
            false,
        ),
    ] {
        if skip || var(variable).is_some() {
            continue;
        }
        let Some(value) = profiles.get(setting) else {
            continue;
        };
        if !value.is_empty()
            && !value.eq_ignore_ascii_case("true")
            && !value.eq_ignore_ascii_case("false")
        {
            problems.push(ProfileProblem {
                setting,
                profile: profiles.selected_profile().to_owned(),
                problem: "is neither true nor false, so the AWS SDK would ignore it; set it to true or false, or remove it".to_owned(),
            });
        }
    }
    problems
}
