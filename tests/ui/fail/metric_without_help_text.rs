tachometer::catalog! {
    counter session_alive_events_total;
}

fn main() {}
