fn main() { capture_station_app::run() }
