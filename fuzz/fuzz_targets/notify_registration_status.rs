#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::operations::notify_registration_status(data));
