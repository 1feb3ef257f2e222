// Test client: Java 17 java.net.http only. Knows nothing about llm-vcr.
// Proxy and trust store come from JVM system properties (JAVA_TOOL_OPTIONS), read by the default ProxySelector.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

public class Client {
    public static void main(String[] args) throws Exception {
        String base = System.getenv("OPENAI_BASE_URL");
        if (base == null || base.isEmpty()) throw new IllegalStateException("OPENAI_BASE_URL is not set");
        base = base.replaceAll("/+$", "");
        Path dir = Path.of(System.getenv().getOrDefault("CLIENT_REQUESTS", "../requests"));
        String key = System.getenv().getOrDefault("OPENAI_API_KEY", "");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        for (String name : new String[] {"stream", "tool_stream", "chat", "embeddings"}) {
            byte[] body = Files.readAllBytes(dir.resolve(name + ".json"));
            String path = name.equals("embeddings") ? "/embeddings" : "/chat/completions";
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
            HttpResponse<java.io.InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            System.out.println(name + " STATUS " + resp.statusCode());
            String ctype = resp.headers().firstValue("content-type").orElse("");
            try (BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
                if (ctype.startsWith("text/event-stream")) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (!line.startsWith("data:")) continue;
                        String data = line.substring(5);
                        if (data.startsWith(" ")) data = data.substring(1);
                        System.out.println(data.equals("[DONE]") ? name + " DONE" : name + " DATA " + data);
                    }
                } else {
                    StringBuilder all = new StringBuilder();
                    String line;
                    while ((line = r.readLine()) != null) all.append(line);
                    System.out.println(name + " BODY " + all);
                }
            }
        }
    }
}
