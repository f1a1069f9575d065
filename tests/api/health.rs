use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer_200_while_serving() {
    let app = spawn_app().await;
    for route in ["/healthz", "/readyz"] {
        let response = app.client.get(format!("{}{route}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{route}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_not_served() {
    let app = spawn_app().await;
    for route in ["/slack/commands", "/slack/interactions"] {
        for method in [reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE] {
            let response = app.client.request(method.clone(), format!("{}{route}", app.address)).send().await.unwrap();
            assert_eq!(response.status(), 405, "{method} {route}");
            assert_eq!(response.headers()["allow"], "POST", "{method} {route}");
        }
    }
    let response = app.client.get(format!("{}/nope", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 404);
}
