import GatehouseDevIdP
import Testing

@Test func theBannerSaysDevelopmentOnly() {
    #expect(DevelopmentOnly.banner.contains("FOR DEVELOPMENT ONLY"))
}
