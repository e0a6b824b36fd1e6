//! `#[ws_scoped]` expands to code that compiles with no prelude, beside a user module named
//! `metrics`, with every warning denied (including missing docs on public items).
#![no_implicit_prelude]
#![deny(warnings, missing_docs)]

mod metrics {
    pub(crate) struct Gauge;
}

/// A client's session.
#[::tachometer::ws_scoped("session")]
#[derive(Debug)]
pub struct Session {
    /// Who is connected.
    pub user: ::std::string::String,
}

/// A machine's connection, as a tuple struct.
#[::tachometer::ws_scoped("machine")]
pub struct Machine(pub u64);

/// A device scope the application declares itself, with a generic payload.
#[::tachometer::ws_scoped(custom = "device", field = connection)]
#[derive(Clone, Default)]
pub struct Device<T: ::core::clone::Clone> {
    /// The device's state.
    pub state: T,
}

fn main() {
    let _unused = metrics::Gauge;
    let session = Session {
        user: ::std::string::String::new(),
        ws_connection: ::tachometer::WsConnection::open(),
    };
    let machine = Machine(7, ::tachometer::WsConnection::open());
    let device: Device<u8> = ::core::default::Default::default();
    let copy = ::core::clone::Clone::clone(&device);
    ::core::assert_eq!(session.ws_connection.scope_name(), "session");
    ::core::assert_eq!(machine.1.scope_name(), "machine");
    ::core::assert_eq!(copy.connection.scope_name(), "device");
    ::core::assert_eq!(device.state, 0);
}
