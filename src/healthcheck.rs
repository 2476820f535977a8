//! `meeting-registry healthcheck`: one GET of the readiness endpoint, for a container's
//! HEALTHCHECK (the runtime image has no curl). Plain HTTP/1.1 over a std `TcpStream`: the
//! server is on the same host, and a client library would be a large dependency for one
//! status line.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use url::{Position, Url};

/// Connecting, sending and reading each give up after this long: a server that takes longer
/// to say it is ready is not healthy.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// `/readyz` on the server's listen address; an unspecified address (0.0.0.0, ::) is asked on
/// the loopback address of its family.
pub fn readiness_url(bind: &str) -> String {
    match bind.parse::<SocketAddr>() {
        Ok(mut address) => {
            if address.ip().is_unspecified() {
                address.set_ip(match address {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            format!("http://{address}/readyz")
        }
        // A host name and port (localhost:8080).
        Err(_) => format!("http://{bind}/readyz"),
    }
}

/// GETs `url`; the status line when it is 200, else one line saying what went wrong.
pub fn check(url: &str) -> Result<String, String> {
    let fail = |why: String| format!("healthcheck {url}: {why}");
    let parsed = Url::parse(url).map_err(|e| fail(format!("not a URL ({e})")))?;
    if parsed.scheme() != "http" {
        return Err(fail("only http:// URLs can be checked".to_owned()));
    }
    let addresses = parsed
        .socket_addrs(|| Some(80))
        .map_err(|e| fail(format!("cannot resolve the host ({e})")))?;
    let mut stream = connect(&addresses).map_err(|e| fail(format!("cannot connect ({e})")))?;
    let host = &parsed[Position::BeforeHost..Position::AfterPort];
    let target = &parsed[Position::BeforePath..Position::AfterQuery];
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: meeting-registry-healthcheck\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream
        .set_write_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_read_timeout(Some(TIMEOUT)))
        .and_then(|()| stream.write_all(request.as_bytes()))
        .map_err(|e| fail(format!("cannot send the request ({e})")))?;
    let mut status_line = String::new();
    BufReader::new(std::io::Read::take(stream, 1024))
        .read_line(&mut status_line)
        .map_err(|e| fail(format!("no answer ({e})")))?;
    let status_line = status_line.trim_end();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| fail(format!("not an HTTP answer: {status_line:?}")))?;
    if status == 200 {
        Ok(format!("{url}: {status_line}"))
    } else {
        Err(fail(format!("answered {status_line}")))
    }
}

fn connect(addresses: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last_error = std::io::Error::other("the host has no address");
    for address in addresses {
        match TcpStream::connect_timeout(address, TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_built_from_the_listen_address() {
        assert_eq!(
            readiness_url("0.0.0.0:8080"),
            "http://127.0.0.1:8080/readyz"
        );
        assert_eq!(readiness_url("[::]:9000"), "http://[::1]:9000/readyz");
        assert_eq!(readiness_url("10.1.2.3:80"), "http://10.1.2.3:80/readyz");
        assert_eq!(
            readiness_url("localhost:8080"),
            "http://localhost:8080/readyz"
        );
    }

    #[test]
    fn what_cannot_be_checked_is_said_in_one_line() {
        let https = check("https://example.org/readyz").unwrap_err();
        assert!(https.contains("only http://"), "{https}");
        let garbage = check("nonsense").unwrap_err();
        assert!(
            garbage.contains("not a URL") && !garbage.contains('\n'),
            "{garbage}"
        );
    }
}
