//! Device timings, printed as figures (the tests assert what happens, never how fast): a scan of
//! the SBI port range with nothing there, a scan that finds the simulator, a capture refused by
//! a device that does not answer in time, and the frames a second of a live preview.
//!
//! `target/release/device_bench` (no arguments).

use std::time::{Duration, Instant};

use simpul_devsim::sbi::{SbiFault, SbiSim, SbiSimConfig, serve};
use simpul_hardware::sbi::{DeviceType, Modality, SbiService, scan_ports};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // The SBI range on an address of its own, with nothing listening.
    let empty = Instant::now();
    let none = scan_ports("127.0.0.3", 4501..=4600, Duration::from_millis(300)).await;
    println!("port scan 4501-4600, nothing there: {:.2} s ({} found)", empty.elapsed().as_secs_f64(), none.len());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    let sim = SbiSim::new(SbiSimConfig::standard());
    tokio::spawn(serve(listener, sim.clone()));
    let found = Instant::now();
    let near =
        scan_ports("127.0.0.1", port.saturating_sub(3)..=port.saturating_add(3), Duration::from_millis(1500)).await;
    println!("port scan of 7 ports, one service: {:.2} s ({} found)", found.elapsed().as_secs_f64(), near.len());

    let base = format!("http://127.0.0.1:{port}");
    let service = SbiService::new(&base, Duration::from_millis(500)).expect("a client");
    let infos = service.info().await.expect("the simulator answers");
    let face = infos.iter().find(|i| i.modality == Some(Modality::Face)).expect("a face camera").device_id.clone();

    sim.set_fault(Some(SbiFault::Slow));
    let slow = Instant::now();
    let refused = service.discover(DeviceType::Any).await;
    println!(
        "a device slower than the 500 ms step: refused after {:.2} s ({:?})",
        slow.elapsed().as_secs_f64(),
        refused.err()
    );
    sim.set_fault(None);

    let seconds = 2;
    let started = Instant::now();
    let mut preview = service.preview(&face, 0, seconds).await.expect("a preview");
    let mut frames = 0u32;
    while let Some(frame) = preview.next().await {
        if frame.is_ok() {
            frames += 1;
        }
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "live preview asked for {seconds} s: {frames} frames in {took:.2} s ({:.1} a second)",
        f64::from(frames) / took
    );
}
