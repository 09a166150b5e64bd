using Metering.Billing.Benchmarks;

return await new BillingBenchmarkCommands().ParseCommandLine(args).InvokeAsync();
