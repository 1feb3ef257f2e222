module llmvcr/testclient

go 1.19
