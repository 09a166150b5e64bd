namespace Metering.DeploymentTests;

public sealed class ImageTests
{
    public static TheoryData<string> Services => new(MeteringService.All.Select(s => s.Name));

    [Theory, MemberData(nameof(Services))]
    public void Each_service_is_a_target_of_the_Dockerfile_with_a_non_root_image_its_ports_and_health_check(string name) =>
        Assert.Empty(DockerfileChecks.Check(BuildOutput.RepositoryRoot, MeteringService.Named(name)));

    [Fact]
    public void There_is_one_Dockerfile_and_its_targets_are_the_services() =>
        Assert.Empty(DockerfileChecks.Single(BuildOutput.RepositoryRoot, MeteringService.All));

    [Fact]
    public void The_build_context_leaves_out_build_outputs_and_local_state()
    {
        var ignored = File.ReadAllLines(Path.Combine(BuildOutput.RepositoryRoot, ".dockerignore"));
        Assert.Superset(new HashSet<string> { "**/bin/", "**/obj/", ".git/", ".metering/" }, ignored.ToHashSet());
    }

    [Fact]
    public void The_health_check_script_asks_for_a_200_on_the_port_of_ASPNETCORE_URLS() =>
        RepositoryScripts.AssertHolds("infra/docker/healthcheck.sh", "/dev/tcp/127.0.0.1/", "HTTP/1.1\\ 200", "${ASPNETCORE_URLS");
}
