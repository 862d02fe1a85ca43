//! Reading a store over HTTP: `python3 -m http.server` serves a saved store on 127.0.0.1;
//! load and row ranges through the URL equal the local reads. Needs the `http` feature
//! (`cargo test -p grumpy-zarr --features http --test http`).
#![cfg(feature = "http")]

use grumpy_core::Array;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn load_and_open_over_http() {
    let root = std::env::temp_dir().join(format!("grumpy-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let rows: Vec<Vec<f64>> = (0..50).map(|i| vec![i as f64; i % 4]).collect();
    let a = Array::from_item(&rows.into(), None).unwrap();
    let opts = grumpy_zarr::SaveOptions {
        chunk_size: Some(7),
        ..Default::default()
    };
    grumpy_zarr::save(&a, root.join("s.zarr"), &opts).unwrap();
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Server(child);
    // "Serving HTTP on 127.0.0.1 port 12345 (http://127.0.0.1:12345/) ..."
    let port: u16 = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("port in the server banner");
    let url = format!("http://127.0.0.1:{port}/s.zarr");
    assert_eq!(grumpy_zarr::load(&url).unwrap().to_item(), a.to_item());
    let r = grumpy_zarr::open(&url).unwrap();
    assert_eq!(r.len(), 50);
    assert_eq!(
        r.read_rows(10, 23).unwrap().to_item(),
        a.slice(10, 13).to_item()
    );
    assert_eq!(r.take_rows(&[49, 3, 3]).unwrap().len(), 3);
    let e = grumpy_zarr::save(&a, &url, &Default::default()).unwrap_err();
    assert_eq!(e.code(), grumpy_core::Code::Unsupported);
    let e = grumpy_zarr::load(format!("http://127.0.0.1:{port}/missing.zarr")).unwrap_err();
    assert_eq!(e.code(), grumpy_core::Code::Store);
    std::fs::remove_dir_all(&root).unwrap();
}
