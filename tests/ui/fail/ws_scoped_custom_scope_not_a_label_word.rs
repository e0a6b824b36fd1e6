//! A custom scope that is not a lower-case word: it becomes a label value, so it must be one.
#[tachometer::ws_scoped(custom = "Edge Device")]
struct Device {
    serial: String,
}

fn main() {
    let device = Device {
        serial: String::new(),
        ws_connection: tachometer::WsConnection::open(),
    };
    drop(device.serial);
}
