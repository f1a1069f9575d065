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
    let response = app.client.get(format!("{}/slack/commands", app.address)).send().await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let response = app.client.get(format!("{}/nope", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 404);
}
