//! Services and ports as published (`several_services` fixture): where the
//! client sends each service's requests. An address without a path makes the
//! base URL itself the endpoint; one on another host keeps its last segment.

use payamak::codegen::{decode_request, encode_response};
use payamak::transport::{HttpResponse, MemoryTransport};
use payamak::{Client, SoapVersion};

use crate::generator_fixtures::several_services_golden::{stations, weather};

/// A server for both services, answering from what it read.
fn transport() -> MemoryTransport {
    MemoryTransport::new(|request| {
        let text = String::from_utf8_lossy(request.body);
        let body = if let Ok(forecast) = decode_request::<weather::ForecastRequest>(&text) {
            let answer = weather::ForecastResponse { forecast_result: format!("sunny in {}", forecast.request.city) };
            encode_response::<weather::ForecastRequest>(&answer, forecast.version)
        } else {
            let nearest = decode_request::<stations::NearestRequest>(&text).expect("a Nearest request");
            let answer = stations::NearestResponse {
                nearest_result: format!("station at {}", nearest.request.lat + nearest.request.lon),
            };
            encode_response::<stations::NearestRequest>(&answer, nearest.version)
        };
        Ok(HttpResponse::new(200, body.expect("encodes").into_bytes()))
    })
}

#[tokio::test]
async fn each_service_goes_to_its_endpoint_under_the_base_urls() {
    assert_eq!((weather::SERVICE.endpoint, weather::SERVICE.default_address), ("", "http://weather.example.org"));
    assert_eq!(stations::SERVICE.endpoint, "stations.svc");
    for (base, weather_url, stations_url) in [
        // The published address of the service without a path…
        (weather::SERVICE.default_address, "http://weather.example.org/", "http://weather.example.org/stations.svc"),
        // …or any other base URL: the base URL is the endpoint.
        ("http://127.0.0.1:8080/svc", "http://127.0.0.1:8080/svc/", "http://127.0.0.1:8080/svc/stations.svc"),
    ] {
        for version in [SoapVersion::V11, SoapVersion::V12] {
            let transport = transport();
            let client = Client::builder()
                .base_url(base)
                .credentials("user", "secret")
                .soap_version(version)
                .transport(transport.clone())
                .build()
                .expect("a client");
            let forecast = client.call(&weather::ForecastRequest { city: "Tabriz".into() }).await;
            if version == SoapVersion::V12 {
                assert_eq!(forecast.expect("SOAP 1.2 port").forecast_result, "sunny in Tabriz");
                // Stations has no SOAP 1.2 port.
                let error = client.call(&stations::NearestRequest { lat: 1.0, lon: 2.5 }).await.unwrap_err();
                assert!(error.to_string().contains("SOAP 1.2"), "{error}");
                assert_eq!(transport.requests().len(), 1);
                continue;
            }
            assert_eq!(forecast.expect("the call succeeds").forecast_result, "sunny in Tabriz");
            let nearest = client.call(&stations::NearestRequest { lat: 1.0, lon: 2.5 }).await.expect("succeeds");
            assert_eq!(nearest.nearest_result, "station at 3.5");
            let urls: Vec<String> = transport.requests().into_iter().map(|request| request.url).collect();
            assert_eq!(urls, [weather_url, stations_url]);
        }
    }
}
