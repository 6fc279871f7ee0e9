//! Resources as the decisions page defines them: a simple string or a media RSS (MRSS) document
//! with a title, ratings and parental-control metadata, on several lines. Each goes through
//! authorize, preauthorize and both TempPass calls to the emulator over real HTTP on 127.0.0.1,
//! and reaches it exactly as the app wrote it.

use tvpass::{
    Decision, DenyReason, Environment, PassClient, PassError, RateLimit, RetryPolicy,
    TempPassIdentity, MAX_PERMITS, MAX_PERMIT_BYTES, MAX_RESOURCE_BYTES,
};
use tvpass_emulator::{Emulator, EmulatorConfig, DEFAULT_SOFTWARE_STATEMENT};

/// A channel with an MPAA rating, on several lines, as the decisions page writes one.
const RATED: &str = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n\
    \x20   <channel>\n\
    \x20       <title>REF30</title>\n\
    \x20       <media:rating scheme=\"urn:mpaa\">pg</media:rating>\n\
    \x20   </channel>\n\
    </rss>";

/// An episode: an item with its guid and a v-chip rating, indented with tabs, CRLF line ends.
const EPISODE: &str = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\r\n\
    \t<channel>\r\n\
    \t\t<title>REF30</title>\r\n\
    \t\t<item>\r\n\
    \t\t\t<title>The Pilot</title>\r\n\
    \t\t\t<guid isPermaLink=\"false\">urn:ref30:series:1:episode:1</guid>\r\n\
    \t\t\t<media:rating scheme=\"urn:v-chip\">tv-14</media:rating>\r\n\
    \t\t</item>\r\n\
    \t</channel>\r\n\
    </rss>";

/// An MRSS of `bytes` bytes: a channel named `channel` with as many rated items as fit, padded
/// with spaces to the exact length.
fn mrss_of(channel: &str, bytes: usize) -> String {
    let head = format!(
        "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n<channel>\n\
         <title>{channel}</title>\n"
    );
    let tail = "</channel>\n</rss>";
    let mut doc = head;
    let mut i = 0;
    loop {
        let item = format!(
            "<item><title>Episode {i}</title><guid>urn:{channel}:{i}</guid>\
             <media:rating scheme=\"urn:v-chip\">tv-pg</media:rating></item>\n"
        );
        if doc.len() + item.len() + tail.len() > bytes {
            break;
        }
        doc.push_str(&item);
        i += 1;
    }
    doc.push_str(&" ".repeat(bytes - doc.len() - tail.len()));
    doc.push_str(tail);
    assert_eq!(doc.len(), bytes);
    doc
}

async fn emulator() -> Emulator {
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = false;
    Emulator::start(c).await.unwrap()
}

fn client(emu: &Emulator) -> PassClient {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

async fn login(emu: &Emulator, c: &PassClient, mvpd: &str) {
    let s = c.create_session(mvpd).await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    c.await_profile(&s).await.unwrap();
}

/// The resources of the last decisions request the emulator received, as JSON strings.
fn sent_resources(emu: &Emulator) -> Vec<String> {
    let request = emu
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.contains("/decisions/"))
        .expect("a decisions request");
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn mrss_resources_are_authorized_preauthorized_and_sent_as_written() {
    let emu = emulator().await;
    let c = client(&emu);
    login(&emu, &c, "Cablevision").await;
    let large = mrss_of("REF30", 4096);
    for resource in [RATED, EPISODE, large.as_str()] {
        let d = c.authorize("Cablevision", resource).await.unwrap();
        assert!(d.is_permit(), "{d:?}");
        assert_eq!(d.resource(), resource);
        assert!(matches!(
            &d,
            Decision::Permit {
                media_token: Some(_),
                ..
            }
        ));
        assert_eq!(sent_resources(&emu), [resource]);
    }
    // The MVPD's rules apply to the channel the MRSS names: late-night is behind parental
    // controls, sports is not on this MVPD's line-up under another name.
    let late = mrss_of("late-night", 300);
    let unknown = mrss_of("not-carried", 300);
    let resources = [
        RATED,
        EPISODE,
        large.as_str(),
        late.as_str(),
        unknown.as_str(),
        RATED,
    ];
    let ds = c.preauthorize("Cablevision", &resources).await.unwrap();
    let got: Vec<(&str, bool)> = ds.iter().map(|d| (d.resource(), d.is_permit())).collect();
    assert_eq!(
        got,
        [
            (RATED, true),
            (EPISODE, true),
            (large.as_str(), true),
            (late.as_str(), false),
            (unknown.as_str(), false),
        ],
        "in the order asked, the duplicate gone"
    );
    assert!(matches!(
        &ds[3],
        Decision::Deny {
            reason: DenyReason::ParentalControls,
            ..
        }
    ));
    // The Permits are kept: asked again, nothing goes out for them.
    let before = emu.count("/api/v2/REF30/decisions");
    let again = c
        .preauthorize("Cablevision", &[RATED, EPISODE, large.as_str()])
        .await
        .unwrap();
    assert!(again.iter().all(Decision::is_permit));
    assert_eq!(emu.count("/api/v2/REF30/decisions"), before);
}

#[tokio::test]
async fn mrss_resources_go_through_temp_pass() {
    let emu = emulator().await;
    let c = client(&emu);
    c.create_session("TempPass_10min").await.unwrap();
    let d = c
        .authorize_temp_pass("TempPass_10min", EPISODE, None)
        .await
        .unwrap();
    assert!(d.is_permit(), "{d:?}");
    assert_eq!(sent_resources(&emu), [EPISODE]);
    let ds = c
        .preauthorize_temp_pass("TempPass_10min", &[RATED, EPISODE], None)
        .await
        .unwrap();
    assert_eq!(ds.len(), 2);
    assert!(ds.iter().all(Decision::is_permit), "{ds:?}");

    let id = TempPassIdentity::email("viewer@example.com").unwrap();
    let d = c
        .authorize_temp_pass("TempPass_Promo", RATED, Some(&id))
        .await
        .unwrap();
    assert!(d.is_permit(), "{d:?}");
    assert_eq!(sent_resources(&emu), [RATED]);
}

fn refused(result: Result<impl Sized, PassError>) -> Option<String> {
    match result {
        Err(PassError::InvalidConfiguration { setting, reason }) => {
            assert_eq!(setting, "resource");
            Some(reason)
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_resource_is_taken_up_to_max_resource_bytes_with_the_characters_xml_holds() {
    let emu = emulator().await;
    let c = client(&emu);
    for n in [
        MAX_RESOURCE_BYTES - 1,
        MAX_RESOURCE_BYTES,
        MAX_RESOURCE_BYTES + 1,
    ] {
        let resource = mrss_of("REF30", n);
        let before = emu.count("/api/v2/REF30/decisions");
        let result = c.preauthorize("Spectrum", &[resource.as_str()]).await;
        let over = n > MAX_RESOURCE_BYTES;
        assert_eq!(refused(result).is_some(), over, "{n}");
        let sent = emu.count("/api/v2/REF30/decisions") - before;
        assert_eq!(sent, usize::from(!over), "refused before any request: {n}");
        assert_eq!(
            refused(c.authorize("Spectrum", &resource).await).is_some(),
            over
        );
        let temp = c
            .authorize_temp_pass("TempPass_10min", &resource, None)
            .await;
        assert_eq!(refused(temp).is_some(), over);
    }
    let before = emu.count("/api/v2/REF30/decisions");
    for bad in [
        "",
        "  \n\t ",
        "REF30\u{0}",
        "a\u{7}b",
        "a\u{85}b",
        "a\u{fffe}",
        "\u{ffff}",
    ] {
        assert!(
            refused(c.authorize("Spectrum", bad).await).is_some(),
            "{bad:?}"
        );
        assert!(refused(c.preauthorize("Spectrum", &["news", bad]).await).is_some());
        assert!(refused(
            c.preauthorize_temp_pass("TempPass_10min", &[bad], None)
                .await
        )
        .is_some());
    }
    assert_eq!(emu.count("/api/v2/REF30/decisions"), before, "nothing sent");
}

#[tokio::test]
async fn a_devices_permits_hold_at_most_max_permit_bytes_of_resources() {
    const SIZE: usize = 4096;
    let fit = MAX_PERMIT_BYTES / SIZE;
    assert!(fit < MAX_PERMITS, "the bytes bound before the count");
    let emu = emulator().await;
    for n in [fit - 1, fit, fit + 1] {
        // A device of its own for each count.
        let c = PassClient::builder()
            .environment(Environment::Custom(emu.base_url()))
            .service_provider("REF30")
            .software_statement(DEFAULT_SOFTWARE_STATEMENT)
            .rate_limit(RateLimit {
                enabled: false,
                ..RateLimit::default()
            })
            .preauthorize_batch_size(5)
            .preauthorize_concurrency(16)
            .build()
            .unwrap();
        login(&emu, &c, "Spectrum").await;
        let docs: Vec<String> = (0..n)
            .map(|i| mrss_of(&format!("channel-{i}"), SIZE))
            .collect();
        let resources: Vec<&str> = docs.iter().map(String::as_str).collect();
        let first = c.preauthorize("Spectrum", &resources).await.unwrap();
        assert!(first.iter().all(Decision::is_permit));
        // Asked again, the kept Permits answer; only what was dropped is asked for.
        let before = emu.count("/api/v2/REF30/decisions/preauthorize");
        let again = c.preauthorize("Spectrum", &resources).await.unwrap();
        assert!(again.iter().all(Decision::is_permit));
        let asked = emu.count("/api/v2/REF30/decisions/preauthorize") - before;
        assert_eq!(asked, usize::from(n > fit), "{n} resources of {SIZE} bytes");
    }
}
