//! Compact JWS as a client assertion and as a signed request (header, base64url, claims).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let keys = consentry::identity::KeyResolver::default();
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let aud = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let _ = consentry::node::auth::verify(token, "POST", "/v1/releases", aud, now, &keys);
    let _ = consentry::node::auth::verify_request(token, "register", aud, now, &keys);
});
