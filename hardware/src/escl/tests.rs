//! Tests of the eSCL driver against scripted scanner answers.

use super::*;

const CAPS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerCapabilities xmlns:scan="http://schemas.hp.com/imaging/escl/2011/05/03" xmlns:pwg="http://www.pwg.org/schemas/2010/12/sm">
  <pwg:Version>2.63</pwg:Version>
  <pwg:MakeAndModel>Uji Scan 9000</pwg:MakeAndModel>
  <pwg:SerialNumber>SN-1</pwg:SerialNumber>
  <scan:UUID>urn:uuid:4509A320-00A0-008E-00B6-000507510ECC</scan:UUID>
  <scan:Platen>
    <scan:PlatenInputCaps>
      <scan:MinWidth>16</scan:MinWidth><scan:MaxWidth>2550</scan:MaxWidth>
      <scan:MinHeight>16</scan:MinHeight><scan:MaxHeight>3300</scan:MaxHeight>
      <scan:SettingProfiles>
        <scan:SettingProfile>
          <scan:ColorModes><scan:ColorMode>RGB24</scan:ColorMode><scan:ColorMode>Grayscale8</scan:ColorMode></scan:ColorModes>
          <scan:DocumentFormats>
            <pwg:DocumentFormat>image/jpeg</pwg:DocumentFormat>
            <pwg:DocumentFormat>application/pdf</pwg:DocumentFormat>
            <scan:DocumentFormatExt>image/jpeg</scan:DocumentFormatExt>
          </scan:DocumentFormats>
          <scan:SupportedResolutions><scan:DiscreteResolutions>
            <scan:DiscreteResolution><scan:XResolution>100</scan:XResolution><scan:YResolution>100</scan:YResolution></scan:DiscreteResolution>
            <scan:DiscreteResolution><scan:XResolution>200</scan:XResolution><scan:YResolution>200</scan:YResolution></scan:DiscreteResolution>
            <scan:DiscreteResolution><scan:XResolution>600</scan:XResolution><scan:YResolution>600</scan:YResolution></scan:DiscreteResolution>
          </scan:DiscreteResolutions></scan:SupportedResolutions>
        </scan:SettingProfile>
      </scan:SettingProfiles>
    </scan:PlatenInputCaps>
  </scan:Platen>
  <scan:Adf>
    <scan:AdfSimplexInputCaps>
      <scan:MaxWidth>2550</scan:MaxWidth><scan:MaxHeight>4200</scan:MaxHeight>
      <scan:SettingProfiles><scan:SettingProfile ref="p1"/></scan:SettingProfiles>
    </scan:AdfSimplexInputCaps>
    <scan:AdfDuplexInputCaps/>
  </scan:Adf>
  <scan:SettingProfiles>
    <scan:SettingProfile name="p1">
      <scan:ColorModes><scan:ColorMode>Grayscale8</scan:ColorMode></scan:ColorModes>
      <scan:DocumentFormats><pwg:DocumentFormat>image/jpeg</pwg:DocumentFormat></scan:DocumentFormats>
      <scan:SupportedResolutions><scan:ResolutionRange><scan:XResolutionRange>
        <scan:Min>150</scan:Min><scan:Max>300</scan:Max><scan:Normal>300</scan:Normal><scan:Step>50</scan:Step>
      </scan:XResolutionRange></scan:ResolutionRange></scan:SupportedResolutions>
    </scan:SettingProfile>
  </scan:SettingProfiles>
</scan:ScannerCapabilities>"#;

#[test]
fn capabilities_are_read_from_both_inputs() {
    let caps = parse_capabilities(CAPS.as_bytes()).unwrap();
    assert_eq!(caps.make_and_model, "Uji Scan 9000");
    assert_eq!(caps.version, "2.63");
    assert_eq!(caps.serial.as_deref(), Some("SN-1"));
    assert_eq!(caps.identity().as_deref(), Some("4509a320-00a0-008e-00b6-000507510ecc"));
    assert!(caps.is_device("4509A320-00A0-008E-00B6-000507510ECC"));
    assert!(!caps.is_device("00000000-0000-0000-0000-000000000000"));
    assert!(caps.platen && caps.adf && caps.adf_duplex);
    let platen = caps.platen_caps.as_ref().unwrap();
    assert_eq!(platen.resolutions, vec![100, 200, 600]);
    assert_eq!(platen.color_modes, vec![ColorMode::Rgb24, ColorMode::Grayscale8]);
    assert!(platen.accepts("application/pdf") && platen.format_ext);
    assert_eq!((platen.max_width, platen.max_height), (2550, 3300));
    let adf = caps.adf_caps.as_ref().unwrap();
    assert_eq!(adf.resolutions, vec![150, 200, 300], "range 150..300 step 50");
    assert_eq!(adf.color_modes, vec![ColorMode::Grayscale8]);
    assert!(!adf.accepts("application/pdf"));
    assert_eq!(caps.resolutions, vec![100, 150, 200, 300, 600]);
    assert_eq!(caps.formats, vec!["image/jpeg".to_string(), "application/pdf".to_string()]);
}

#[test]
fn requests_are_matched_to_what_the_input_offers() {
    let caps = parse_capabilities(CAPS.as_bytes()).unwrap();
    let platen = caps.platen_caps.as_ref().unwrap();
    let s = Settings::choose(&ScanRequest::default(), ScanSource::Platen, platen).unwrap();
    assert_eq!(s.dpi, 200, "300 is between 200 and 600; nearer 200");
    assert_eq!((s.width, s.height), (2480, 3300), "height clamped to the glass");
    assert_eq!(platen.nearest_resolution(400), 600, "a tie goes to the higher");
    assert_eq!(platen.nearest_resolution(10), 100);
    let adf = caps.adf_caps.as_ref().unwrap();
    let s = Settings::choose(&ScanRequest::default(), ScanSource::Adf, adf).unwrap();
    assert_eq!((s.color, s.dpi), (ColorMode::Grayscale8, 300));
    let pdf = ScanRequest { format: ScanFormat::Pdf, ..ScanRequest::default() };
    assert!(matches!(Settings::choose(&pdf, ScanSource::Adf, adf), Err(DeviceError::Unsupported(_))));
    let xml = Settings::choose(&pdf, ScanSource::Platen, platen).unwrap().xml("2.63");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(SCAN_NS));
    assert_eq!(child_text(root, "InputSource").as_deref(), Some("Platen"));
    assert_eq!(child_text(root, "DocumentFormatExt").as_deref(), Some("application/pdf"));
    assert_eq!(child_text(root, "XResolution").as_deref(), Some("200"));
    assert_eq!(child_text(root, "Version").as_deref(), Some("2.63"));
    assert!(Settings::choose(&pdf, ScanSource::Platen, platen).unwrap().xml("<x/>").contains(">2.0<"));
}

#[test]
fn status_states_become_what_staff_must_do() {
    let status = |state: &str, adf: &str| {
        let adf = if adf.is_empty() { String::new() } else { format!("<scan:AdfState>{adf}</scan:AdfState>") };
        parse_status(
                format!(
                    r#"<scan:ScannerStatus xmlns:scan="{SCAN_NS}" xmlns:pwg="{PWG_NS}"><pwg:Version>2.6</pwg:Version><pwg:State>{state}</pwg:State>{adf}<scan:Jobs><scan:JobInfo><pwg:State>Completed</pwg:State></scan:JobInfo></scan:Jobs></scan:ScannerStatus>"#
                )
                .as_bytes(),
            )
            .unwrap()
    };
    let idle = status("Idle", "ScannerAdfLoaded");
    assert_eq!((idle.state.clone(), idle.adf.clone()), (ScannerState::Idle, Some(AdfState::Loaded)));
    assert!(idle.attention().is_empty());
    let empty = status("Idle", "ScannerAdfEmpty");
    assert_eq!(empty.attention(), vec![Attention::MediaEmpty]);
    assert_eq!(empty.blocking(ScanSource::Adf), Some(Attention::MediaEmpty));
    assert_eq!(empty.blocking(ScanSource::Platen), None);
    let jam = status("Stopped", "ScannerAdfJam");
    assert_eq!(jam.attention(), vec![Attention::MediaJam]);
    assert_eq!(jam.blocking(ScanSource::Platen), Some(Attention::MediaJam));
    assert_eq!(status("Idle", "ScannerAdfHatchOpen").blocking(ScanSource::Adf), Some(Attention::CoverOpen));
    assert_eq!(status("Down", "").attention(), vec![Attention::Offline]);
    assert_eq!(status("Idle", "ScannedAdfLoaded").adf, Some(AdfState::Loaded));
    assert_eq!(status("Warming", "").state, ScannerState::Other("Warming".into()));
}

#[test]
fn malformed_documents_are_protocol_errors() {
    for bad in [
        &b"<<<garbage"[..],
        b"",
        b"\xFF\xFE not utf-8",
        b"<scan:ScannerStatus xmlns:scan='x'><pwg:State>Idle</pwg:State></scan:ScannerStatus>",
        b"<ScannerStatus><Version>2</Version></ScannerStatus>",
        b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><ScannerStatus><State>&a;</State></ScannerStatus>",
    ] {
        assert!(matches!(parse_status(bad), Err(DeviceError::Protocol(_))), "{:?}", String::from_utf8_lossy(bad));
    }
    assert!(matches!(parse_capabilities(b"<ScannerStatus/>"), Err(DeviceError::Protocol(_))));
    assert!(matches!(
        parse_capabilities(b"<ScannerCapabilities><MakeAndModel>x</MakeAndModel></ScannerCapabilities>"),
        Err(DeviceError::Protocol(_))
    ));
    let bad_number = "<ScannerCapabilities><Platen><PlatenInputCaps><MaxWidth>wide</MaxWidth></PlatenInputCaps></Platen></ScannerCapabilities>";
    assert!(matches!(parse_capabilities(bad_number.as_bytes()), Err(DeviceError::Protocol(_))));
    // Without namespaces, as some devices send it.
    let plain = parse_status(b"<ScannerStatus><State>Processing</State></ScannerStatus>").unwrap();
    assert_eq!(plain.state, ScannerState::Processing);
}

#[test]
fn scanner_urls_and_job_locations() {
    let s = EsclScanner::new("http://10.0.0.5:8080/eSCL/", Duration::from_secs(1)).unwrap();
    assert_eq!(s.base(), "http://10.0.0.5:8080/eSCL");
    assert_eq!(s.job_url("/eSCL/ScanJobs/abc").unwrap(), "http://10.0.0.5:8080/eSCL/ScanJobs/abc");
    assert_eq!(s.job_url("http://NPI1.local./eSCL/ScanJobs/abc/").unwrap(), "http://10.0.0.5:8080/eSCL/ScanJobs/abc");
    assert_eq!(s.job_url("ScanJobs/7").unwrap(), "http://10.0.0.5:8080/eSCL/ScanJobs/7");
    assert_eq!(s.job_url("http://evil.example:9/x?y").unwrap(), "http://10.0.0.5:8080/x");
    let s = EsclScanner::new("https://scanner.local/eSCL", Duration::from_secs(1)).unwrap();
    assert_eq!(s.base(), "https://scanner.local:443/eSCL");
    let s = EsclScanner::new("http://[::1]:631/eSCL", Duration::from_secs(1)).unwrap();
    assert_eq!(s.base(), "http://[::1]:631/eSCL");
    for bad in ["ftp://x/eSCL", "not a url", "http://x/eSCL?a=b", "http://u@x/eSCL", "file:///etc/passwd"] {
        assert!(EsclScanner::new(bad, Duration::from_secs(1)).is_err(), "{bad}");
    }
}
