//! The HTTP surface against a real server on a port-0 listener: pages, sessions, CSRF, roles,
//! throttling and bad input.

mod common;

use common::TestApp;

#[tokio::test]
async fn login_page_is_indonesian_and_sets_a_strict_http_only_cookie() {
    let app = TestApp::start().await;
    let b = app.browser();
    let page = b.get("/masuk").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html lang=\"id\""), "html lang: {}", &page.body[..200]);
    assert!(page.body.contains("<h1>Masuk"), "heading in Indonesian");
    assert!(page.body.contains("Nama pengguna"));
    let cookie = page.cookies().into_iter().find(|c| c.starts_with("simpul_sesi=")).expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    app.stop().await;
}

#[tokio::test]
async fn pages_behind_login_redirect_to_the_login_page() {
    let app = TestApp::start().await;
    let b = app.browser();
    let home = b.get("/katalog").await;
    assert!(matches!(home.status, 302 | 303 | 307), "status {}", home.status);
    assert_eq!(home.header("location"), Some("/masuk?next=/katalog"));
    let api = b.get("/api/catalog").await;
    assert_eq!(api.status, 401);
    assert_eq!(api.json(), serde_json::json!("Unauthenticated"));
    app.stop().await;
}

#[tokio::test]
async fn login_rotates_the_session_and_opens_the_catalog() {
    let app = TestApp::start().await;
    let b = app.browser();
    let before = b.get("/masuk").await.cookies();
    let reply = b.login("petugas", &app.passwords["petugas"]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("location"), Some("/"));
    let after = reply.cookies();
    let id = |cookies: &[String]| {
        cookies.iter().find(|c| c.starts_with("simpul_sesi=")).map(|c| c.split(';').next().unwrap().to_string())
    };
    assert!(id(&after).is_some(), "login sets a new session cookie");
    assert_ne!(id(&before), id(&after), "the session id changes at login");

    let catalog = b.get("/api/catalog").await;
    assert_eq!(catalog.status, 200);
    let list = catalog.json();
    let titles: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert!(titles.iter().any(|t| t.contains("Legalisir")));
    let id = list[0]["id"].as_str().unwrap();
    let detail = b.get(&format!("/api/catalog/detail?id={id}")).await;
    assert_eq!(detail.status, 200);
    assert!(!detail.json()["standard"]["requirements"].as_array().unwrap().is_empty());

    let page = b.get("/katalog").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Katalog Layanan"));
    assert!(page.body.contains("Legalisir Fotokopi KTP-el"));
    app.stop().await;
}

#[tokio::test]
async fn wrong_and_unknown_credentials_get_the_same_answer() {
    let app = TestApp::start().await;
    let b = app.browser();
    let wrong = b.login("petugas", "not-the-password").await;
    let unknown = b.login("nobody", "whatever-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.json(), serde_json::json!("InvalidCredentials"));
    assert_eq!(unknown.json(), wrong.json());
    // Both are in the audit trail, with the reason the client was not told.
    assert_eq!(b.login("petugas", &app.passwords["petugas"]).await.status, 200);
    let conn = simpul_store::db::open_sync(&app.dir.path().join("data/simpul.sqlite3"), &app.database_key()).unwrap();
    let entries = simpul_store::audit::recent(&conn, 3).unwrap();
    let actions: Vec<(&str, Option<&str>)> = entries.iter().map(|e| (e.action.as_str(), e.detail.as_deref())).collect();
    assert_eq!(
        actions,
        [("login", None), ("login_failed", Some("unknown user")), ("login_failed", Some("wrong password"))]
    );
    assert!(entries[0].actor.starts_with("staff:"));
    assert_eq!(entries[1].actor, "anon:127.0.0.1");
    app.stop().await;
}

#[tokio::test]
async fn missing_or_forged_csrf_tokens_are_refused() {
    let app = TestApp::start().await;
    let b = app.browser();
    let _ = b.csrf().await;
    let pw = &app.passwords["petugas"];
    let missing = b.post("/api/login", &[("csrf", ""), ("username", "petugas"), ("password", pw)]).await;
    assert_eq!((missing.status, missing.json()), (403, serde_json::json!("Csrf")));
    let forged = b.post("/api/login", &[("csrf", "forged-token"), ("username", "petugas"), ("password", pw)]).await;
    assert_eq!((forged.status, forged.json()), (403, serde_json::json!("Csrf")));
    // A token from another session is not valid here either.
    let other = app.browser();
    let stolen = other.csrf().await;
    let cross = b.post("/api/login", &[("csrf", &stolen), ("username", "petugas"), ("password", pw)]).await;
    assert_eq!(cross.status, 403);
    // Logged in, a logout without the token does nothing.
    assert_eq!(b.login("petugas", pw).await.status, 200);
    let logout = b.post("/api/logout", &[("csrf", "nope")]).await;
    assert_eq!(logout.status, 403);
    assert_eq!(b.get("/api/catalog").await.status, 200, "still logged in");
    app.stop().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused_before_reaching_a_handler() {
    let app = TestApp::start().await;
    let b = app.browser();
    let csrf = b.csrf().await;
    let r = b
        .client
        .post(app.url("/api/login"))
        .header("origin", "http://evil.example")
        .form(&[("csrf", csrf.as_str()), ("username", "petugas"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = b
        .client
        .post(app.url("/api/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    app.stop().await;
}

#[tokio::test]
async fn roles_are_checked_on_the_server() {
    let app = TestApp::start().await;
    let petugas = app.browser();
    assert_eq!(petugas.login("petugas", &app.passwords["petugas"]).await.status, 200);
    let staff = petugas.get("/api/staff").await;
    assert_eq!((staff.status, staff.json()), (403, serde_json::json!("Forbidden")));
    let system = petugas.get("/api/system").await;
    assert_eq!(system.status, 403);
    let page = petugas.get("/pengguna").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Peran Anda tidak diizinkan"), "Indonesian refusal");

    let kepala = app.browser();
    assert_eq!(kepala.login("kepala", &app.passwords["kepala"]).await.status, 200);
    let staff = kepala.get("/api/staff").await;
    assert_eq!(staff.status, 200);
    assert_eq!(staff.json().as_array().unwrap().len(), 5);

    let installer = app.browser();
    assert_eq!(installer.login("installer", &app.passwords["installer"]).await.status, 200);
    let system = installer.get("/api/system").await;
    assert_eq!(system.status, 200);
    assert_eq!(system.json()["schema_version"], simpul_store::db::SCHEMA_VERSION);
    assert_eq!(installer.get("/api/staff").await.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_for_the_right_password() {
    let app = TestApp::start().await;
    let b = app.browser();
    for _ in 0..5 {
        assert_eq!(b.login("verifikator", "wrong-password-x").await.status, 401);
    }
    let locked = b.login("verifikator", &app.passwords["verifikator"]).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.json()["Throttled"]["retry_after_secs"].as_u64().unwrap() > 0);
    // Other accounts are not locked by it.
    assert_eq!(app.browser().login("kepala", &app.passwords["kepala"]).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_session_the_server_no_longer_knows_is_reported_as_expired() {
    let app = TestApp::start().await;
    let b = app.browser();
    let r = b
        .client
        .get(app.url("/api/catalog"))
        .header("cookie", "simpul_sesi=AAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap(), serde_json::json!("SessionExpired"));
    app.stop().await;
}

#[tokio::test]
async fn a_password_change_ends_existing_sessions() {
    let app = TestApp::start().await;
    let b = app.browser();
    assert_eq!(b.login("petugas", &app.passwords["petugas"]).await.status, 200);
    assert_eq!(b.get("/api/catalog").await.status, 200);
    let conn = simpul_store::db::open_sync(&app.dir.path().join("data/simpul.sqlite3"), &app.database_key()).unwrap();
    let account = simpul_store::staff::by_username(&conn, "petugas").unwrap().unwrap();
    let hash = simpul_server::office::auth::hash_password("a-new-password-1").unwrap();
    simpul_store::staff::set_password(&conn, &account.id, &hash, time::OffsetDateTime::now_utc()).unwrap();
    // The next page load sends the user to the login page with a notice.
    let page = b.get("/").await;
    assert_eq!(page.header("location"), Some("/masuk?next=/&sesi=habis"));
    assert_eq!(b.get("/api/catalog").await.status, 401);

    // The same for a server-function call made from a page that was already open.
    assert_eq!(b.login("kepala", &app.passwords["kepala"]).await.status, 200);
    let account = simpul_store::staff::by_username(&conn, "kepala").unwrap().unwrap();
    simpul_store::staff::set_active(&conn, &account.id, false, time::OffsetDateTime::now_utc()).unwrap();
    let after = b.get("/api/catalog").await;
    assert_eq!((after.status, after.json()), (401, serde_json::json!("SessionExpired")));
    app.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::start().await;
    let b = app.browser();
    assert_eq!(b.login("adminkab", &app.passwords["adminkab"]).await.status, 200);
    let csrf = b.csrf().await;
    let out = b.post("/api/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.header("location"), Some("/masuk"));
    assert_eq!(b.get("/api/catalog").await.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_the_server_stays_up() {
    let app = TestApp::start().await;
    let b = app.browser();
    assert_eq!(b.login("petugas", &app.passwords["petugas"]).await.status, 200);
    let bad_id = b.get("/api/catalog/detail?id=not-a-uuid").await;
    assert_eq!((bad_id.status, bad_id.json()), (400, serde_json::json!({"BadRequest": "id is not a UUID"})));
    let missing = b.get("/api/catalog/detail?id=00000000-0000-4000-8000-000000000000").await;
    assert_eq!((missing.status, missing.json()), (404, serde_json::json!("NotFound")));
    let no_args = b.post("/api/login", &[]).await;
    assert_eq!(no_args.status, 400, "{}", no_args.body);
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = b.client.post(app.url("/api/login")).form(&[("csrf", huge.as_str())]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let not_found = b.get("/no/such/page").await;
    assert_eq!(not_found.status, 404);
    assert!(not_found.body.contains("Halaman tidak ditemukan"));
    let health = b.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["service"], "simpul");
    assert_eq!(health.json()["role"], "office");
    app.stop().await;
}

#[tokio::test]
async fn the_queue_from_kiosk_to_counter_to_the_live_display() {
    let app = TestApp::start().await;
    let kiosk = app.browser();
    let bad = kiosk.get("/api/kiosk?token=guessed").await;
    assert_eq!((bad.status, bad.json()), (403, serde_json::json!({"Refused": "DeviceToken"})));
    let view = kiosk.get(&format!("/api/kiosk?token={}", app.kiosk_token)).await;
    assert_eq!(view.status, 200, "{}", view.body);
    let service = view.json()["services"][0]["id"].as_str().unwrap().to_string();
    let take = |lane: &'static str, client: &'static str| {
        let (token, service) = (app.kiosk_token.clone(), service.clone());
        let kiosk = &kiosk;
        async move {
            kiosk
                .post(
                    "/api/kiosk/ticket",
                    &[("token", &token), ("service_id", &service), ("lane", lane), ("client_id", client)],
                )
                .await
        }
    };
    let ticket = take("normal", "k-1").await;
    assert_eq!(ticket.status, 200, "{}", ticket.body);
    let ticket = ticket.json();
    assert_eq!(ticket["state"], "pending_print");
    assert_eq!(ticket["number"], "A-001");
    // The same request again (a retry) is the same ticket.
    assert_eq!(take("normal", "k-1").await.json()["id"], ticket["id"]);
    let printed = kiosk
        .post(
            "/api/kiosk/printed",
            &[("token", &app.kiosk_token), ("ticket_id", ticket["id"].as_str().unwrap()), ("ok", "true")],
        )
        .await;
    assert_eq!(printed.json()["state"], "waiting");
    assert_eq!(take("bogus-lane", "k-2").await.status, 400);

    // The display stream starts with the current state.
    let display = reqwest::Client::new();
    let mut stream =
        display.get(app.url(&format!("/api/layar/stream?token={}", app.display_token))).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let first = String::from_utf8(stream.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.contains("event: antrian") && first.contains("\"waiting\":[1,0]"), "{first}");
    assert_eq!(display.get(app.url("/api/layar/stream?token=nope")).send().await.unwrap().status().as_u16(), 403);

    // A verifier has no counter; counter staff do, with CSRF.
    let verifier = app.browser();
    verifier.login("verifikator", &app.passwords["verifikator"]).await;
    assert_eq!(verifier.get("/api/counter").await.status, 403);
    let staff = app.browser();
    assert_eq!(staff.login("petugas", &app.passwords["petugas"]).await.status, 200);
    let csrf = staff.csrf().await;
    assert_eq!(
        staff.post("/api/counter/open", &[("csrf", "x"), ("counter", "L1"), ("open", "true")]).await.status,
        403
    );
    assert_eq!(
        staff.post("/api/counter/open", &[("csrf", &csrf), ("counter", "L1"), ("open", "true")]).await.status,
        200
    );
    let called = staff.post("/api/counter/call", &[("csrf", &csrf), ("counter", "L1")]).await;
    assert_eq!(called.status, 200, "{}", called.body);
    assert_eq!(called.json()["number"], "A-001");
    let again = staff.post("/api/counter/call", &[("csrf", &csrf), ("counter", "L1")]).await;
    assert_eq!((again.status, again.json()), (409, serde_json::json!({"Refused": "CounterBusy"})));

    // The call reaches the display live (after the event for the counter opening).
    let mut seen = String::new();
    while !seen.contains("[\"Loket 1\",\"A-001\"]") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk()).await;
        let chunk = chunk.expect("an event within 5 s").unwrap().expect("stream open");
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.contains("\"call_seq\":1"), "{seen}");

    let id = called.json()["id"].as_str().unwrap().to_string();
    for action in ["start", "finish"] {
        let r = staff.post("/api/counter/act", &[("csrf", &csrf), ("ticket", &id), ("action", action)]).await;
        assert_eq!(r.status, 200, "{action}: {}", r.body);
    }
    let empty = staff.post("/api/counter/call", &[("csrf", &csrf), ("counter", "L1")]).await;
    assert_eq!(empty.json(), serde_json::json!({"Refused": "QueueEmpty"}));
    let desk = staff.get("/api/counter").await.json();
    assert_eq!(desk["counters"][0]["open"], true);
    assert_eq!(desk["counters"][0]["staff"], "Ni Luh Ayu Lestari");
    app.stop().await;
}
