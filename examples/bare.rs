//! The benchmark ceiling: a bare actix-web server (the crate's own actix-web version and
//! features) answering `GET /hello` with a small JSON body, with no database, middleware or
//! logging. `scripts/bench` reports every figure of the registry as a ratio to this one.
//!
//! ```text
//! cargo run --release --example bare -- 127.0.0.1:8099      # or BARE_BIND=127.0.0.1:8099
//! curl http://127.0.0.1:8099/hello
//! ```
//! Workers: `BARE_WORKERS`, else one per core (actix's default, as the registry's).

use actix_web::{App, HttpResponse, HttpServer, get, http::header::ContentType};

#[get("/hello")]
async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(r#"{"message":"hello","service":"bare"}"#)
}

fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("BARE_BIND").ok())
        .unwrap_or_else(|| "127.0.0.1:8099".to_owned());
    let workers = std::env::var("BARE_WORKERS")
        .ok()
        .and_then(|w| w.parse::<usize>().ok());
    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(|| App::new().service(hello)).bind(&bind)?;
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        eprintln!("bare: listening on {bind}");
        server.run().await
    })
}
